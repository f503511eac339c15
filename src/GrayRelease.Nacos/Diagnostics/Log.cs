using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Diagnostics;

/// <summary>Every log line of the package. Event ids are stable; no line carries a password or a token.</summary>
internal static partial class Log
{
    // 1-19: HTTP transport and auth
    [LoggerMessage(EventIds.ServerUnreachable, LogLevel.Warning, "Nacos server {Server} did not answer {Path}: {Reason}")]
    public static partial void ServerUnreachable(ILogger logger, Uri server, string path, string reason);

    [LoggerMessage(EventIds.ServerError, LogLevel.Warning, "Nacos server {Server} answered {Path} with status {StatusCode}")]
    public static partial void ServerError(ILogger logger, Uri server, string path, int statusCode);

    [LoggerMessage(EventIds.FailedOver, LogLevel.Information, "Failed over to Nacos server {Server}")]
    public static partial void FailedOver(ILogger logger, Uri server);

    [LoggerMessage(EventIds.LoggedIn, LogLevel.Debug, "Logged in to Nacos server {Server} as {UserName}; token valid for {TokenTtlSeconds} s")]
    public static partial void LoggedIn(ILogger logger, Uri server, string userName, long tokenTtlSeconds);

    [LoggerMessage(EventIds.LoginFailed, LogLevel.Error, "Nacos server {Server} refused the login of {UserName} with status {StatusCode}; check nacos:UserName and nacos:Password")]
    public static partial void LoginFailed(ILogger logger, Uri server, int statusCode, string userName);

    [LoggerMessage(EventIds.TokenRejected, LogLevel.Information, "Nacos server {Server} refused the access token for {Path}; logging in again")]
    public static partial void TokenRejected(ILogger logger, Uri server, string path);

    // 20-39: self-registration
    [LoggerMessage(EventIds.Registered, LogLevel.Information, "Registered {Registration} with Nacos")]
    public static partial void Registered(ILogger logger, string registration);

    [LoggerMessage(EventIds.RegisterFailed, LogLevel.Warning, "Could not register {Registration} with Nacos; retrying in {RetryDelay}")]
    public static partial void RegisterFailed(ILogger logger, Exception exception, string registration, TimeSpan retryDelay);

    [LoggerMessage(EventIds.BeatUnknownInstance, LogLevel.Information, "Nacos no longer knows {Registration} (its heartbeat was answered 'instance not found': code 20404 on v1, 21003 on v3); registering again")]
    public static partial void BeatUnknownInstance(ILogger logger, string registration);

    [LoggerMessage(EventIds.BeatFailed, LogLevel.Warning, "Heartbeat of {Registration} failed; next heartbeat in {RetryDelay}")]
    public static partial void BeatFailed(ILogger logger, Exception exception, string registration, TimeSpan retryDelay);

    [LoggerMessage(EventIds.Deregistered, LogLevel.Information, "Deregistered {Registration} from Nacos; draining for {DrainDelay} before the server stops")]
    public static partial void Deregistered(ILogger logger, string registration, TimeSpan drainDelay);

    [LoggerMessage(EventIds.DeregisterFailed, LogLevel.Warning, "Could not deregister {Registration} from Nacos; it will expire when heartbeats stop")]
    public static partial void DeregisterFailed(ILogger logger, Exception exception, string registration);

    [LoggerMessage(EventIds.CannotRegister, LogLevel.Error, "Cannot register with Nacos: {Reason}")]
    public static partial void CannotRegister(ILogger logger, string reason);

    [LoggerMessage(EventIds.RegistrationDisabled, LogLevel.Debug, "Self-registration is off (nacos:RegisterEnabled = false)")]
    public static partial void RegistrationDisabled(ILogger logger);

    // 40-59: discovery
    [LoggerMessage(EventIds.InstancesChanged, LogLevel.Information, "Instances of {ServiceName} changed: {Count} instance(s) ({Source})")]
    public static partial void InstancesChanged(ILogger logger, string serviceName, int count, string source);

    [LoggerMessage(EventIds.RefreshFailed, LogLevel.Warning, "Could not refresh the instances of {ServiceName}; keeping the previous list of {Count} instance(s)")]
    public static partial void RefreshFailed(ILogger logger, Exception exception, string serviceName, int count);

    [LoggerMessage(EventIds.MalformedInstanceList, LogLevel.Warning, "Nacos answered an unreadable instance list for {ServiceName}; keeping the previous list of {Count} instance(s). Body starts with: {Body}")]
    public static partial void MalformedInstanceList(ILogger logger, string serviceName, int count, string body);

    [LoggerMessage(EventIds.EmptyListIgnored, LogLevel.Warning, "Nacos answered an empty instance list for {ServiceName}; keeping the previous {Count} instance(s) (push-empty protection, nacos:PushEmptyProtection)")]
    public static partial void EmptyListIgnored(ILogger logger, string serviceName, int count);

    [LoggerMessage(EventIds.ServedFromSnapshot, LogLevel.Warning, "Nacos is unreachable; serving {Count} instance(s) of {ServiceName} from the snapshot {Path}")]
    public static partial void ServedFromSnapshot(ILogger logger, string serviceName, int count, string path);

    [LoggerMessage(EventIds.SnapshotWriteFailed, LogLevel.Warning, "Could not write the instance snapshot {Path}")]
    public static partial void SnapshotWriteFailed(ILogger logger, Exception exception, string path);

    [LoggerMessage(EventIds.SnapshotReadFailed, LogLevel.Warning, "Could not read the instance snapshot {Path}")]
    public static partial void SnapshotReadFailed(ILogger logger, Exception exception, string path);

    [LoggerMessage(EventIds.PushListening, LogLevel.Information, "Listening for Nacos UDP push on {EndPoint}")]
    public static partial void PushListening(ILogger logger, string endPoint);

    [LoggerMessage(EventIds.PushUnavailable, LogLevel.Warning, "UDP push is off: could not bind a UDP socket ({Reason}); instance lists are kept fresh by polling only")]
    public static partial void PushUnavailable(ILogger logger, string reason);

    [LoggerMessage(EventIds.MalformedPush, LogLevel.Warning, "Ignored an unreadable UDP push datagram of {Length} bytes from {Sender}")]
    public static partial void MalformedPush(ILogger logger, int length, string sender);

    [LoggerMessage(EventIds.PushReceived, LogLevel.Debug, "UDP push {Type} from {Sender}")]
    public static partial void PushReceived(ILogger logger, string type, string sender);

    [LoggerMessage(EventIds.ChangeHandlerFailed, LogLevel.Error, "An InstancesChanged handler failed for {ServiceName}")]
    public static partial void ChangeHandlerFailed(ILogger logger, Exception exception, string serviceName);

    // 60-79: configuration
    [LoggerMessage(EventIds.ConfigChanged, LogLevel.Information, "Nacos configuration {DataId} ({Group}) changed; reloading")]
    public static partial void ConfigChanged(ILogger logger, string dataId, string group);

    [LoggerMessage(EventIds.ConfigMalformed, LogLevel.Error, "Nacos configuration {DataId} ({Group}) could not be parsed as {Format}; keeping the previous values")]
    public static partial void ConfigMalformed(ILogger logger, Exception exception, string dataId, string group, string format);

    [LoggerMessage(EventIds.ListenFailed, LogLevel.Warning, "Listening for Nacos configuration changes failed; retrying in {RetryDelay}")]
    public static partial void ListenFailed(ILogger logger, Exception exception, TimeSpan retryDelay);

    [LoggerMessage(EventIds.ConfigDeleted, LogLevel.Warning, "Nacos configuration {DataId} ({Group}) was deleted; keeping the previous values")]
    public static partial void ConfigDeleted(ILogger logger, string dataId, string group);

    [LoggerMessage(EventIds.ConfigFromSnapshot, LogLevel.Warning, "Nacos is unreachable; loaded configuration {DataId} ({Group}) from the snapshot {Path}")]
    public static partial void ConfigFromSnapshot(ILogger logger, string dataId, string group, string path);

    [LoggerMessage(EventIds.RecoveryStarted, LogLevel.Information, "Nacos answered again after being unreachable; for {Grace} instance lists are merged, not replaced, while instances re-register")]
    public static partial void RecoveryStarted(ILogger logger, TimeSpan grace);

    [LoggerMessage(EventIds.KeptDuringRecovery, LogLevel.Information, "Kept {Count} instance(s) of {ServiceName} that Nacos does not list yet (recovering registry)")]
    public static partial void KeptDuringRecovery(ILogger logger, string serviceName, int count);
}
