using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Diagnostics;

/// <summary>Discovery messages added for issue 11 (event ids 100-149).</summary>
internal static partial class Log
{
    [LoggerMessage(EventIds.PushFromUntrustedSender, LogLevel.Warning, "Dropped {Count} UDP datagram(s) from {Sender}, which is not the address of a configured Nacos server (if it is one, e.g. a Nacos container seen from the host, add it to nacos:UdpTrustedSenders)")]
    public static partial void PushFromUntrustedSender(ILogger logger, long count, string sender);

    [LoggerMessage(EventIds.PushHandlingFailed, LogLevel.Warning, "Handling a UDP push datagram from {Sender} failed; still listening")]
    public static partial void PushHandlingFailed(ILogger logger, Exception exception, string sender);

    [LoggerMessage(EventIds.PushReceiveFailed, LogLevel.Warning, "Receiving UDP push datagrams failed; still listening")]
    public static partial void PushReceiveFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventIds.StaleAnswerIgnored, LogLevel.Debug, "Ignored an instance list of {ServiceName} older than the one applied (lastRefTime {LastRefTime} < {Applied})")]
    public static partial void StaleAnswerIgnored(ILogger logger, string serviceName, long lastRefTime, long applied);

    [LoggerMessage(EventIds.SnapshotFolderRefused, LogLevel.Error, "Not using the snapshot folder {Path}: {Reason}. Snapshots are neither read nor written; set nacos:SnapshotPath to a folder only this user can write")]
    public static partial void SnapshotFolderRefused(ILogger logger, string path, string reason);

    [LoggerMessage(EventIds.PushAddressChosen, LogLevel.Information, "UDP push: socket bound to {Bound}, Nacos is asked to push to {ClientIp}:{Port}")]
    public static partial void PushAddressChosen(ILogger logger, string bound, string clientIp, int port);

    [LoggerMessage(EventIds.TrustedSenderIgnored, LogLevel.Warning, "Ignored nacos:UdpTrustedSenders entry '{Entry}': not an IP address")]
    public static partial void TrustedSenderIgnored(ILogger logger, string entry);

    [LoggerMessage(EventIds.ServiceIdle, LogLevel.Information, "Stopped refreshing {ServiceName}: not looked up for {Idle}; the next lookup asks Nacos again")]
    public static partial void ServiceIdle(ILogger logger, string serviceName, TimeSpan idle);

    [LoggerMessage(EventIds.ServiceCapReached, LogLevel.Warning, "Not caching {ServiceName}: {Max} services are cached already (the limit); it is asked from Nacos on every lookup. Too many distinct host names go through the gray-aware HttpClient")]
    public static partial void ServiceCapReached(ILogger logger, string serviceName, int max);

    [LoggerMessage(EventIds.BackgroundRefreshFailed, LogLevel.Warning, "The background refresh of {ServiceName} failed; retrying at the next period")]
    public static partial void BackgroundRefreshFailed(ILogger logger, Exception exception, string serviceName);

    [LoggerMessage(EventIds.EmptyFirstAnswerServedFromSnapshot, LogLevel.Warning, "Nacos lists no instance of {ServiceName}, which has a snapshot (it was a service): serving its {Count} instance(s) from {Path} (push-empty protection, nacos:PushEmptyProtection)")]
    public static partial void EmptyFirstAnswerServedFromSnapshot(ILogger logger, string serviceName, int count, string path);
}
