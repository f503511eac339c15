namespace GrayRelease.Routing;

/// <summary>
/// One routable target inside a routing table (a registry instance for the load balancer, a YARP destination for the
/// gateway), with its version, weight and passive-health state.
/// </summary>
internal sealed class RouteMember<T>(T instance, string version, double weight)
    where T : class
{
    private long _quarantinedUntil;

    public T Instance { get; } = instance;

    /// <summary>The member's version, or the empty string when it has none.</summary>
    public string Version { get; } = version;

    /// <summary>Relative weight; always positive (non-positive weights are left out when the table is built).</summary>
    public double Weight { get; } = weight;

    public long QuarantinedUntil => Volatile.Read(ref _quarantinedUntil);

    public bool IsQuarantined(long now) => Volatile.Read(ref _quarantinedUntil) > now;

    public void QuarantineUntil(long timestamp) => Volatile.Write(ref _quarantinedUntil, timestamp);
}
