using GrayRelease.Discovery;

namespace GrayRelease.LoadBalancing;

/// <summary>An instance inside a routing table, with its passive-health state.</summary>
internal sealed class RoutableInstance(ServiceInstance instance, string version)
{
    private long _quarantinedUntil;

    public ServiceInstance Instance { get; } = instance;

    /// <summary>The instance's version, or the empty string when it has none.</summary>
    public string Version { get; } = version;

    public bool IsQuarantined(long now) => Volatile.Read(ref _quarantinedUntil) > now;

    public void QuarantineUntil(long timestamp) => Volatile.Write(ref _quarantinedUntil, timestamp);

    public long QuarantinedUntil => Volatile.Read(ref _quarantinedUntil);
}
