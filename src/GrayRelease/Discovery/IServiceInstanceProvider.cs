namespace GrayRelease.Discovery;

/// <summary>
/// Source of service instances for the gray load balancer: configuration, a registry such as Nacos, or a test double.
/// </summary>
/// <remarks>
/// The load balancer calls <see cref="GetInstancesAsync"/> once per service and afterwards relies on
/// <see cref="InstancesChanged"/>: a provider must raise it for every later change of a service it has answered for. A
/// service not picked for <see cref="GrayReleaseOptions.IdleServiceTimeout"/> is forgotten, and looked up again by its
/// next call.
/// </remarks>
public interface IServiceInstanceProvider
{
    /// <summary>
    /// Returns the current instances of <paramref name="serviceName"/> (possibly empty), or <see langword="null"/> when
    /// the provider does not know that name; requests to such hosts are passed through untouched.
    /// </summary>
    ValueTask<IReadOnlyList<ServiceInstance>?> GetInstancesAsync(string serviceName, CancellationToken cancellationToken = default);

    /// <summary>Raised after the instance list of a service has changed.</summary>
    event EventHandler<ServiceInstancesChangedEventArgs>? InstancesChanged;
}
