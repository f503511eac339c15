namespace GrayRelease.Discovery;

/// <summary>The new instance list of one service.</summary>
/// <param name="serviceName">The service whose instances changed.</param>
/// <param name="instances">The complete new list (not a delta).</param>
public sealed class ServiceInstancesChangedEventArgs(string serviceName, IReadOnlyList<ServiceInstance> instances) : EventArgs
{
    /// <summary>The service whose instances changed.</summary>
    public string ServiceName { get; } = serviceName;

    /// <summary>The complete new list of instances.</summary>
    public IReadOnlyList<ServiceInstance> Instances { get; } = instances;
}
