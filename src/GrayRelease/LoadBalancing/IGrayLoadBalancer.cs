using GrayRelease.Discovery;

namespace GrayRelease.LoadBalancing;

/// <summary>Picks the instance of a service that a call with a given gray status must reach.</summary>
public interface IGrayLoadBalancer
{
    /// <summary>
    /// Picks an instance of <paramref name="serviceName"/> for a call with <paramref name="status"/>
    /// (<see langword="null"/> = untagged). Returns <see langword="null"/> when the service is unknown to the
    /// instance provider (the call should go out untouched).
    /// </summary>
    /// <exception cref="NoAvailableInstanceException">No routable instance of the wanted version, and the <see cref="NoInstancePolicy"/> found none either.</exception>
    ValueTask<ServiceInstance?> PickAsync(string serviceName, GrayStatus? status, CancellationToken cancellationToken = default);

    /// <summary>
    /// Picks an instance of <paramref name="serviceName"/> for a call with <paramref name="status"/> in
    /// <paramref name="lane"/> (<see langword="null"/>: no lane): the lane's instances when the service has any, else the
    /// lane's mode decides (<see cref="LaneMode"/>). A balancer that knows no lanes ignores the lane.
    /// </summary>
    ValueTask<ServiceInstance?> PickInLaneAsync(string serviceName, GrayStatus? status, string? lane, CancellationToken cancellationToken = default) =>
        PickAsync(serviceName, status, cancellationToken);

    /// <summary>Reports that <paramref name="instance"/> refused a connection, so picks avoid it for a while (passive health check).</summary>
    void ReportConnectionFailure(ServiceInstance instance);
}
