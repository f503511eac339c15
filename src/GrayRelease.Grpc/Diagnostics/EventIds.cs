namespace GrayRelease.Grpc.Diagnostics;

/// <summary>
/// Event ids of the package's log lines, one constant per <see cref="Log"/> method, in bands per area. Stable: users filter
/// and alert on them, so a number is never reused nor renumbered; a new area takes a new band.
/// </summary>
internal static class EventIds
{
    // 1000-1009: gRPC resolver and picker (Log.Grpc.cs).
    public const int AddressesResolved = 1000;
    public const int UnknownService = 1001;
    public const int ResolveFailed = 1002;
    public const int NoAvailableSubchannel = 1003;

    // 1010-1019: Port metadata of the instances (Log.PortMetadata.cs).
    public const int BadPortMetadata = 1010;
}
