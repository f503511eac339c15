using GrayRelease.Discovery;

namespace GrayRelease.SystemBenchmarks;

/// <summary>An instance provider whose change events the benchmark raises itself, on its own thread.</summary>
internal sealed class ManualInstanceProvider(string serviceName, IReadOnlyList<ServiceInstance> initial) : IServiceInstanceProvider
{
    private IReadOnlyList<ServiceInstance> _current = initial;

    public event EventHandler<ServiceInstancesChangedEventArgs>? InstancesChanged;

    public ValueTask<IReadOnlyList<ServiceInstance>?> GetInstancesAsync(string name, CancellationToken cancellationToken = default) =>
        new(name == serviceName ? _current : null);

    public void Raise(IReadOnlyList<ServiceInstance> instances)
    {
        _current = instances;
        InstancesChanged?.Invoke(this, new ServiceInstancesChangedEventArgs(serviceName, instances));
    }
}
