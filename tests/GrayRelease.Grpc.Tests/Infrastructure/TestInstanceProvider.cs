using GrayRelease.Discovery;

namespace GrayRelease.Grpc.Tests.Infrastructure;

/// <summary>An in-memory instance provider whose lists the test changes at will (pushes are raised synchronously).</summary>
internal sealed class TestInstanceProvider : IServiceInstanceProvider
{
    private readonly Dictionary<string, IReadOnlyList<ServiceInstance>> _services = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public event EventHandler<ServiceInstancesChangedEventArgs>? InstancesChanged;

    public ValueTask<IReadOnlyList<ServiceInstance>?> GetInstancesAsync(string serviceName, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return new(_services.TryGetValue(serviceName, out var list) ? list : null);
        }
    }

    public void Set(string serviceName, params ServiceInstance[] instances)
    {
        lock (_gate)
        {
            _services[serviceName] = instances;
        }

        InstancesChanged?.Invoke(this, new ServiceInstancesChangedEventArgs(serviceName, instances));
    }
}
