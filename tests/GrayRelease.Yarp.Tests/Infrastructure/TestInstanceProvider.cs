using System.Collections.Concurrent;
using GrayRelease.Discovery;

namespace GrayRelease.Yarp.Tests.Infrastructure;

/// <summary>An in-memory registry: tests set a service's instances and the provider raises the change like Nacos would.</summary>
internal sealed class TestInstanceProvider : IServiceInstanceProvider
{
    private readonly ConcurrentDictionary<string, IReadOnlyList<ServiceInstance>> _services = new(StringComparer.Ordinal);

    public event EventHandler<ServiceInstancesChangedEventArgs>? InstancesChanged;

    public int Lookups;

    public Func<string, Exception?> FailWith { get; set; } = _ => null;

    public ValueTask<IReadOnlyList<ServiceInstance>?> GetInstancesAsync(string serviceName, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Lookups);
        if (FailWith(serviceName) is { } exception)
        {
            throw exception;
        }

        return ValueTask.FromResult(_services.TryGetValue(serviceName, out var instances) ? instances : null);
    }

    public void SetInstances(string serviceName, params ServiceInstance[] instances)
    {
        _services[serviceName] = instances;
        InstancesChanged?.Invoke(this, new ServiceInstancesChangedEventArgs(serviceName, instances));
    }

    public static ServiceInstance Instance(string service, VersionedBackend backend, bool healthy = true, bool enabled = true, double weight = 1) =>
        Instance(service, "127.0.0.1", backend.Port, backend.Version, healthy, enabled, weight);

    public static ServiceInstance Instance(string service, string host, int port, string version, bool healthy = true, bool enabled = true, double weight = 1) => new()
    {
        ServiceName = service,
        Host = host,
        Port = port,
        Healthy = healthy,
        Enabled = enabled,
        Weight = weight,
        InstanceId = $"{host}#{port}#{version}",
        Metadata = new Dictionary<string, string> { ["version"] = version },
    };
}
