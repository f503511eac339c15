namespace GrayRelease.Yarp;

/// <summary>
/// Event ids of the package's log lines, one constant per <see cref="Log"/> method, in bands per area. Stable: users filter
/// and alert on them, so a number is never reused nor renumbered; a new area takes a new band.
/// </summary>
internal static class EventIds
{
    // 700-709: Gateway lanes (Log.Lanes.cs).
    public const int GatewayLanesCompiled = 700;
    public const int LaneEntered = 701;

    // 710-719: W3C baggage at the gateway (Log.Baggage.cs).
    public const int ClientGrayBaggageRemoved = 710;

    // 4000-4099: Gateway rules, version routing, service destinations, GeoIP (Log.cs).
    public const int GatewayRulesCompiled = 4001;
    public const int GrayDecisionMade = 4002;
    public const int NoInstanceOfWantedVersion = 4003;
    public const int FallingBack = 4004;
    public const int VersionFilterMissingFromPipeline = 4005;
    public const int ServiceDestinationsResolved = 4006;
    public const int ServiceUnknown = 4007;
    public const int ServiceLookupFailed = 4008;
    public const int GeoIPDatabaseOpened = 4009;
    public const int GeoIPDatabaseFailed = 4010;
    public const int GeoIPLookupFailed = 4011;
    public const int ChangeCallbackFailed = 4012;
    public const int GrayRuleFailed = 4013;
}
