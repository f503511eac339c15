namespace GrayRelease.Diagnostics;

/// <summary>
/// Event ids of the package's log lines, one constant per <see cref="Log"/> method, in bands per area. Stable: users filter
/// and alert on them, so a number is never reused nor renumbered; a new area takes a new band.
/// </summary>
internal static class EventIds
{
    // 1-19: Routing, load balancing, instance providers, options reload (Log.cs).
    public const int IgnoredGrayHeader = 1;
    public const int NoAvailableInstance = 2;
    public const int RoutingTableRebuilt = 3;
    public const int InstanceQuarantined = 4;
    public const int ProviderFailed = 5;
    public const int ConfiguredInstancesChanged = 6;
    public const int ChangeHandlerFailed = 7;
    public const int OptionsChangeRejected = 8;

    // 20-39: W3C baggage propagation (Log.Propagation.cs).
    public const int IgnoredGrayBaggageMember = 20;
    public const int MalformedBaggage = 21;

    // 60-69: Caps on what grows with input (Log.Bounds.cs).
    public const int UnknownServiceCapReached = 60;
    public const int MetricTagCapReached = 61;
    public const int ConfiguredSpellingCapReached = 62;

    // 70-79: Idle services forgotten by the load balancer (Log.Eviction.cs).
    public const int IdleServicesEvicted = 70;
    public const int IdleSweepFailed = 71;
}
