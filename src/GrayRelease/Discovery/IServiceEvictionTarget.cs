namespace GrayRelease.Discovery;

/// <summary>
/// Implemented by an <see cref="IServiceInstanceProvider"/> that keeps services fresh in the background (Nacos: a poll
/// loop or a subscription per service), so that services nobody calls any more stop costing a loop for ever.
/// </summary>
/// <remarks>
/// Internal on purpose: a custom provider is not told, and the load balancer only drops its own table (the next pick
/// asks the provider again, as on the first call); what such a provider keeps is its own bound.
/// </remarks>
internal interface IServiceEvictionTarget
{
    /// <summary>
    /// Stops keeping <paramref name="serviceName"/> fresh and forgets it (the next lookup is a first lookup again).
    /// True when the provider no longer refreshes it (evicted now, or not held); false when it must stay (pinned).
    /// Once this returns true no <see cref="IServiceInstanceProvider.InstancesChanged"/> of the evicted entry follows.
    /// </summary>
    ValueTask<bool> TryEvictAsync(string serviceName, CancellationToken cancellationToken);

    /// <summary>
    /// Keeps <paramref name="serviceName"/> from eviction until the returned handle is disposed: for names asked by
    /// configuration (a gateway's destinations, a gRPC channel's address), not by traffic. Pin before the lookup.
    /// </summary>
    IDisposable Pin(string serviceName);
}
