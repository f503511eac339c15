using GrayRelease.Discovery;

namespace GrayRelease.Tests.Infrastructure;

/// <summary>An in-memory instance provider whose lists the test changes at will.</summary>
internal sealed class TestInstanceProvider : IServiceInstanceProvider
{
    private readonly Dictionary<string, IReadOnlyList<ServiceInstance>> _services;

    public TestInstanceProvider()
        : this(StringComparer.OrdinalIgnoreCase)
    {
    }

    /// <param name="names">How service names compare: <see cref="StringComparer.Ordinal"/> behaves as Nacos, whose names are case-sensitive.</param>
    public TestInstanceProvider(StringComparer names) => _services = new(names);

    public int Calls { get; private set; }

    public event EventHandler<ServiceInstancesChangedEventArgs>? InstancesChanged;

    public ValueTask<IReadOnlyList<ServiceInstance>?> GetInstancesAsync(string serviceName, CancellationToken cancellationToken = default)
    {
        Calls++;
        return new(_services.TryGetValue(serviceName, out var list) ? list : null);
    }

    public void Set(string serviceName, params ServiceInstance[] instances)
    {
        _services[serviceName] = instances;
        InstancesChanged?.Invoke(this, new ServiceInstancesChangedEventArgs(serviceName, instances));
    }

    public static ServiceInstance Instance(string service, int port, string? version, double weight = 1, bool healthy = true, bool enabled = true) => new()
    {
        ServiceName = service,
        Host = "127.0.0.1",
        Port = port,
        Weight = weight,
        Healthy = healthy,
        Enabled = enabled,
        Metadata = version is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["version"] = version },
    };
}
