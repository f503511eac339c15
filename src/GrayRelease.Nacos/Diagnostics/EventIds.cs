namespace GrayRelease.Nacos.Diagnostics;

/// <summary>
/// Event ids of the package's log lines, one constant per <see cref="Log"/> method, in bands per area. Stable: users filter
/// and alert on them, so a number is never reused nor renumbered; a new area takes a new band.
/// </summary>
internal static class EventIds
{
    // 1-19: HTTP transport and auth (Log.cs).
    public const int ServerUnreachable = 1;
    public const int ServerError = 2;
    public const int FailedOver = 3;
    public const int LoggedIn = 4;
    public const int LoginFailed = 5;
    public const int TokenRejected = 6;
    // 7 was RpcNotSupported, retired when gRPC came: never reuse it.

    // 20-39: Self-registration (Log.cs).
    public const int Registered = 20;
    public const int RegisterFailed = 21;
    public const int BeatUnknownInstance = 22;
    public const int BeatFailed = 23;
    public const int Deregistered = 24;
    public const int DeregisterFailed = 25;
    public const int CannotRegister = 26;
    public const int RegistrationDisabled = 27;

    // 40-59: Discovery (Log.cs).
    public const int InstancesChanged = 40;
    public const int RefreshFailed = 41;
    public const int MalformedInstanceList = 42;
    public const int EmptyListIgnored = 43;
    public const int ServedFromSnapshot = 44;
    public const int SnapshotWriteFailed = 45;
    public const int SnapshotReadFailed = 46;
    public const int PushListening = 47;
    public const int PushUnavailable = 48;
    public const int MalformedPush = 49;
    public const int PushReceived = 50;
    public const int ChangeHandlerFailed = 51;
    public const int RecoveryStarted = 52;
    public const int KeptDuringRecovery = 53;

    // 60-79: Configuration (Log.cs).
    public const int ConfigChanged = 60;
    public const int ConfigMalformed = 61;
    public const int ListenFailed = 62;
    public const int ConfigDeleted = 63;
    public const int ConfigFromSnapshot = 64;

    // 100-149: Discovery, second band: push senders, snapshots, idle services (Log.Discovery.cs).
    public const int PushFromUntrustedSender = 100;
    public const int PushHandlingFailed = 101;
    public const int PushReceiveFailed = 102;
    public const int StaleAnswerIgnored = 103;
    public const int SnapshotFolderRefused = 104;
    public const int PushAddressChosen = 105;
    public const int TrustedSenderIgnored = 106;
    public const int ServiceIdle = 107;
    public const int ServiceCapReached = 108;
    public const int BackgroundRefreshFailed = 109;
    public const int EmptyFirstAnswerServedFromSnapshot = 110;

    // 150-199: Self-registration, second band (Log.Registration.cs).
    public const int BeatIntervalOutOfRange = 150;
    public const int BeatRefused = 151;
    public const int RegistrationLoopFailed = 152;
    public const int RegistrationRefused = 153;

    // 200-249: Transport and auth, second band (Log.Transport.cs).
    public const int ApiGone = 200;
    public const int PermissionDenied = 201;
    public const int RequestFailedOnServer = 202;
    public const int LoginPathNotServed = 203;
    public const int DeferredLogsDropped = 204;

    // 300-399: gRPC transport: connection, stream, server push (Log.Grpc.cs).
    public const int GrpcConnected = 300;
    public const int GrpcConnectFailed = 301;
    public const int GrpcDisconnected = 302;
    public const int GrpcConnectReset = 303;
    public const int GrpcBadServerMessage = 304;
    public const int GrpcUnhandledServerRequest = 305;
    public const int GrpcPushHandlerFailed = 306;
    public const int GrpcRedoFailed = 307;
    public const int GrpcLoopFailed = 308;
    public const int GrpcHealthCheckFailed = 309;
    public const int GrpcStateHandlerFailed = 310;
    public const int GrpcRedoDone = 311;
    public const int GrpcClosed = 312;

    // 400-449: Naming over gRPC and the naming transport choice (Log.GrpcNaming.cs).
    public const int NamingTransportChosen = 400;
    public const int GrpcInstanceRedone = 401;
    public const int GrpcNamingRedoFailed = 402;
    public const int GrpcMalformedList = 403;
    public const int GrpcUnsubscribeFailed = 404;
    public const int RecoveryRefresh = 405;
    public const int NamingTransportUndecided = 406;

    // 450-499: Configuration over gRPC and the configuration transport choice (Log.GrpcConfig.cs).
    public const int ConfigTransportChosen = 450;
    public const int ConfigChangeNotified = 451;
    public const int ConfigNotifyIgnored = 452;
    public const int ConfigRelistened = 453;
    public const int ConfigUnknownChange = 454;

    // 500-519: The v3 client HTTP API of Nacos 3.x (Log.V3Http.cs).
    public const int V3ApiChosen = 500;
    public const int NoHttpApi = 501;

    // 520-529: Auth over gRPC (Log.GrpcAuth.cs).
    public const int GrpcTokenRejected = 520;
    public const int GrpcPermissionDenied = 521;

    // 530-539: Redo retry of the gRPC connection (Log.GrpcAuth.cs).
    public const int GrpcRedoRetryScheduled = 530;
    public const int GrpcRedoRetried = 531;

    // 600-609: Caps on what grows with input (Log.Bounds.cs).
    public const int KnownServiceCapReached = 600;

    // 610-629: Naming moving from HTTP to gRPC under Auto (Log.TransportSwitch.cs).
    public const int NamingTransportSwitched = 610;
    public const int RegistrationMovedToGrpc = 611;
    public const int DiscoveryMovedToGrpc = 612;
    public const int NamingReprobeMissed = 613;
    public const int NamingReprobeFailed = 614;
    public const int HttpRegistrationRemovalFailed = 615;
    public const int DiscoveryMoveFailed = 616;

    // 630-639: Idle services no longer kept fresh (Log.Eviction.cs).
    public const int ServiceEvicted = 630;

    // 640-649: The config publisher moving from HTTP to gRPC under Auto (Log.PublisherTransport.cs).
    public const int PublisherReprobeMissed = 640;
    public const int PublisherReprobeFailed = 641;
}
