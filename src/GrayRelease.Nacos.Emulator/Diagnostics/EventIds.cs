namespace GrayRelease.Nacos.Emulator.Diagnostics;

/// <summary>
/// Event ids of the package's log lines, one constant per <see cref="Log"/> method, in bands per area. Stable: users filter
/// and alert on them, so a number is never reused nor renumbered; a new area takes a new band.
/// </summary>
internal static class EventIds
{
    // 1-99: Lifecycle, naming, UDP push, configuration, auth, faults (Log.cs).
    public const int Started = 1;
    public const int Stopped = 2;
    public const int InstanceRegistered = 3;
    public const int InstanceDeregistered = 4;
    public const int InstanceExpired = 5;
    public const int BeatForUnknownInstance = 6;
    public const int Subscribed = 7;
    public const int SubscriptionExpired = 8;
    public const int PushSent = 9;
    public const int PushFailed = 10;
    public const int PushNotAcknowledged = 11;
    public const int PushAcknowledged = 12;
    public const int UnexpectedUdpPacket = 13;
    public const int PushNotEnabledForAgent = 14;
    public const int PushTargetReplaced = 15;
    public const int ConfigPublished = 16;
    public const int ConfigRemoved = 17;
    public const int LoginSucceeded = 18;
    public const int LoginFailed = 19;
    public const int Unauthorized = 20;
    public const int FaultInjected = 21;
    public const int HealthCheckFailed = 22;
    public const int AckReceiverFailed = 23;

    // 100-149: gRPC server and server lines (Log.Grpc.cs).
    public const int GrpcStarted = 100;
    public const int GrpcConnectionOpened = 101;
    public const int GrpcConnectionClosed = 102;
    public const int GrpcConnectionRejected = 103;
    public const int GrpcSetup = 104;
    public const int GrpcNoHandler = 105;
    public const int GrpcSubscribed = 106;
    public const int GrpcPushed = 107;
    public const int GrpcPushFailed = 108;
    public const int GrpcPushLoopFailed = 109;
    public const int GrpcConfigWatchFailed = 110;
    public const int GrpcConfigNotified = 111;
    public const int GrpcConnectionReset = 112;
    public const int GrpcUnexpectedAnswer = 113;
    public const int GrpcStreamMessageIgnored = 114;
    public const int GrpcCallFailed = 115;
    public const int NotServedByLine = 116;

    // 150-199: Parameter checks (Log.cs).
    public const int ParamCheckRefused = 150;

    // 200-249: Transport, auth and configuration strictness (Log.Transport.cs).
    public const int V1ApiGone = 200;
    public const int PermissionDenied = 201;

    // 880-889: Configuration compare-and-swap (Log.Cas.cs).
    public const int ConfigCasRejected = 880;
}
