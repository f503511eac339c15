using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Diagnostics;

/// <summary>Every log line of the package. Event ids are stable; no line carries a password or a token.</summary>
internal static partial class Log
{
    // 1-19: HTTP transport and auth
    [LoggerMessage(1, LogLevel.Warning, "Nacos server {Server} did not answer {Path}: {Reason}")]
    public static partial void ServerUnreachable(ILogger logger, Uri server, string path, string reason);

    [LoggerMessage(2, LogLevel.Warning, "Nacos server {Server} answered {Path} with status {StatusCode}")]
    public static partial void ServerError(ILogger logger, Uri server, string path, int statusCode);

    [LoggerMessage(3, LogLevel.Information, "Failed over to Nacos server {Server}")]
    public static partial void FailedOver(ILogger logger, Uri server);

    [LoggerMessage(4, LogLevel.Debug, "Logged in to Nacos server {Server} as {UserName}; token valid for {TokenTtlSeconds} s")]
    public static partial void LoggedIn(ILogger logger, Uri server, string userName, long tokenTtlSeconds);

    [LoggerMessage(5, LogLevel.Error, "Nacos server {Server} refused the login of {UserName} with status {StatusCode}; check nacos:UserName and nacos:Password")]
    public static partial void LoginFailed(ILogger logger, Uri server, int statusCode, string userName);

    [LoggerMessage(6, LogLevel.Information, "Nacos server {Server} refused the access token for {Path}; logging in again")]
    public static partial void TokenRejected(ILogger logger, Uri server, string path);

    // 20-39: self-registration
    [LoggerMessage(20, LogLevel.Information, "Registered {Registration} with Nacos")]
    public static partial void Registered(ILogger logger, string registration);

    [LoggerMessage(21, LogLevel.Warning, "Could not register {Registration} with Nacos; retrying in {RetryDelay}")]
    public static partial void RegisterFailed(ILogger logger, Exception exception, string registration, TimeSpan retryDelay);

    [LoggerMessage(22, LogLevel.Information, "Nacos no longer knows {Registration} (its heartbeat was answered 'instance not found': code 20404 on v1, 21003 on v3); registering again")]
    public static partial void BeatUnknownInstance(ILogger logger, string registration);

    [LoggerMessage(23, LogLevel.Warning, "Heartbeat of {Registration} failed; next heartbeat in {RetryDelay}")]
    public static partial void BeatFailed(ILogger logger, Exception exception, string registration, TimeSpan retryDelay);

    [LoggerMessage(24, LogLevel.Information, "Deregistered {Registration} from Nacos; draining for {DrainDelay} before the server stops")]
    public static partial void Deregistered(ILogger logger, string registration, TimeSpan drainDelay);

    [LoggerMessage(25, LogLevel.Warning, "Could not deregister {Registration} from Nacos; it will expire when heartbeats stop")]
    public static partial void DeregisterFailed(ILogger logger, Exception exception, string registration);

    [LoggerMessage(26, LogLevel.Error, "Cannot register with Nacos: {Reason}")]
    public static partial void CannotRegister(ILogger logger, string reason);

    [LoggerMessage(27, LogLevel.Debug, "Self-registration is off (nacos:RegisterEnabled = false)")]
    public static partial void RegistrationDisabled(ILogger logger);

    // 40-59: discovery
    [LoggerMessage(40, LogLevel.Information, "Instances of {ServiceName} changed: {Count} instance(s) ({Source})")]
    public static partial void InstancesChanged(ILogger logger, string serviceName, int count, string source);

    [LoggerMessage(41, LogLevel.Warning, "Could not refresh the instances of {ServiceName}; keeping the previous list of {Count} instance(s)")]
    public static partial void RefreshFailed(ILogger logger, Exception exception, string serviceName, int count);

    [LoggerMessage(42, LogLevel.Warning, "Nacos answered an unreadable instance list for {ServiceName}; keeping the previous list of {Count} instance(s). Body starts with: {Body}")]
    public static partial void MalformedInstanceList(ILogger logger, string serviceName, int count, string body);

    [LoggerMessage(43, LogLevel.Warning, "Nacos answered an empty instance list for {ServiceName}; keeping the previous {Count} instance(s) (push-empty protection, nacos:PushEmptyProtection)")]
    public static partial void EmptyListIgnored(ILogger logger, string serviceName, int count);

    [LoggerMessage(44, LogLevel.Warning, "Nacos is unreachable; serving {Count} instance(s) of {ServiceName} from the snapshot {Path}")]
    public static partial void ServedFromSnapshot(ILogger logger, string serviceName, int count, string path);

    [LoggerMessage(45, LogLevel.Warning, "Could not write the instance snapshot {Path}")]
    public static partial void SnapshotWriteFailed(ILogger logger, Exception exception, string path);

    [LoggerMessage(46, LogLevel.Warning, "Could not read the instance snapshot {Path}")]
    public static partial void SnapshotReadFailed(ILogger logger, Exception exception, string path);

    [LoggerMessage(47, LogLevel.Information, "Listening for Nacos UDP push on {EndPoint}")]
    public static partial void PushListening(ILogger logger, string endPoint);

    [LoggerMessage(48, LogLevel.Warning, "UDP push is off: could not bind a UDP socket ({Reason}); instance lists are kept fresh by polling only")]
    public static partial void PushUnavailable(ILogger logger, string reason);

    [LoggerMessage(49, LogLevel.Warning, "Ignored an unreadable UDP push datagram of {Length} bytes from {Sender}")]
    public static partial void MalformedPush(ILogger logger, int length, string sender);

    [LoggerMessage(50, LogLevel.Debug, "UDP push {Type} from {Sender}")]
    public static partial void PushReceived(ILogger logger, string type, string sender);

    [LoggerMessage(51, LogLevel.Error, "An InstancesChanged handler failed for {ServiceName}")]
    public static partial void ChangeHandlerFailed(ILogger logger, Exception exception, string serviceName);

    // 60-79: configuration
    [LoggerMessage(60, LogLevel.Information, "Nacos configuration {DataId} ({Group}) changed; reloading")]
    public static partial void ConfigChanged(ILogger logger, string dataId, string group);

    [LoggerMessage(61, LogLevel.Error, "Nacos configuration {DataId} ({Group}) could not be parsed as {Format}; keeping the previous values")]
    public static partial void ConfigMalformed(ILogger logger, Exception exception, string dataId, string group, string format);

    [LoggerMessage(62, LogLevel.Warning, "Listening for Nacos configuration changes failed; retrying in {RetryDelay}")]
    public static partial void ListenFailed(ILogger logger, Exception exception, TimeSpan retryDelay);

    [LoggerMessage(63, LogLevel.Warning, "Nacos configuration {DataId} ({Group}) was deleted; keeping the previous values")]
    public static partial void ConfigDeleted(ILogger logger, string dataId, string group);

    [LoggerMessage(64, LogLevel.Warning, "Nacos is unreachable; loaded configuration {DataId} ({Group}) from the snapshot {Path}")]
    public static partial void ConfigFromSnapshot(ILogger logger, string dataId, string group, string path);

    [LoggerMessage(52, LogLevel.Information, "Nacos answered again after being unreachable; for {Grace} instance lists are merged, not replaced, while instances re-register")]
    public static partial void RecoveryStarted(ILogger logger, TimeSpan grace);

    [LoggerMessage(53, LogLevel.Information, "Kept {Count} instance(s) of {ServiceName} that Nacos does not list yet (recovering registry)")]
    public static partial void KeptDuringRecovery(ILogger logger, string serviceName, int count);
}
