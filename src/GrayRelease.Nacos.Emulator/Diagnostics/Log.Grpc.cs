using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Emulator.Diagnostics;

/// <summary>The gRPC server's and the server lines' messages (event ids 100–149); never tokens.</summary>
internal static partial class Log
{
    [LoggerMessage(EventIds.GrpcStarted, LogLevel.Information, "Nacos emulator gRPC listening on {Address}.")]
    public static partial void GrpcStarted(ILogger logger, string address);

    [LoggerMessage(EventIds.GrpcConnectionOpened, LogLevel.Debug, "gRPC connection {ConnectionId} opened.")]
    public static partial void GrpcConnectionOpened(ILogger logger, string connectionId);

    [LoggerMessage(EventIds.GrpcConnectionClosed, LogLevel.Debug, "gRPC connection {ConnectionId} unregistered: {Reason}.")]
    public static partial void GrpcConnectionClosed(ILogger logger, string connectionId, string reason);

    [LoggerMessage(EventIds.GrpcConnectionRejected, LogLevel.Debug, "gRPC connection from {Remote} rejected (fault injection).")]
    public static partial void GrpcConnectionRejected(ILogger logger, string remote);

    [LoggerMessage(EventIds.GrpcSetup, LogLevel.Debug, "gRPC connection {ConnectionId} set up (module '{Module}', client '{ClientVersion}').")]
    public static partial void GrpcSetup(ILogger logger, string connectionId, string module, string clientVersion);

    [LoggerMessage(EventIds.GrpcNoHandler, LogLevel.Debug, "gRPC: no handler for type '{Type}': answered 302.")]
    public static partial void GrpcNoHandler(ILogger logger, string type);

    [LoggerMessage(EventIds.GrpcSubscribed, LogLevel.Debug, "gRPC connection {ConnectionId} subscribed to service '{ServiceName}'.")]
    public static partial void GrpcSubscribed(ILogger logger, string connectionId, string serviceName);

    [LoggerMessage(EventIds.GrpcPushed, LogLevel.Debug, "Pushed service '{ServiceName}' ({Hosts} hosts) to gRPC connection {ConnectionId} (request {RequestId}); success {Success}.")]
    public static partial void GrpcPushed(ILogger logger, string connectionId, string serviceName, string requestId, int hosts, bool success);

    [LoggerMessage(EventIds.GrpcPushFailed, LogLevel.Debug, "gRPC request {RequestId} about '{Target}' to connection {ConnectionId} got no answer ({Error}); it is retried.")]
    public static partial void GrpcPushFailed(ILogger logger, string connectionId, string target, string requestId, string error);

    [LoggerMessage(EventIds.GrpcPushLoopFailed, LogLevel.Error, "The gRPC push of service '{ServiceName}' to connection {ConnectionId} failed.")]
    public static partial void GrpcPushLoopFailed(ILogger logger, string connectionId, string serviceName, Exception exception);

    [LoggerMessage(EventIds.GrpcConfigWatchFailed, LogLevel.Error, "A gRPC background task failed; it goes on with the next change.")]
    public static partial void GrpcConfigWatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventIds.GrpcConfigNotified, LogLevel.Debug, "Notified gRPC connection {ConnectionId} of config '{DataId}' in group '{Group}' (request {RequestId}).")]
    public static partial void GrpcConfigNotified(ILogger logger, string connectionId, string group, string dataId, string requestId);

    [LoggerMessage(EventIds.GrpcConnectionReset, LogLevel.Debug, "Sent ConnectResetRequest {RequestId} to gRPC connection {ConnectionId}.")]
    public static partial void GrpcConnectionReset(ILogger logger, string connectionId, string requestId);

    [LoggerMessage(EventIds.GrpcUnexpectedAnswer, LogLevel.Debug, "gRPC connection {ConnectionId} answered request '{RequestId}', which nobody waits for.")]
    public static partial void GrpcUnexpectedAnswer(ILogger logger, string connectionId, string requestId);

    [LoggerMessage(EventIds.GrpcStreamMessageIgnored, LogLevel.Debug, "gRPC connection {ConnectionId}: ignored a stream message of type '{Type}'.")]
    public static partial void GrpcStreamMessageIgnored(ILogger logger, string connectionId, string type);

    [LoggerMessage(EventIds.GrpcCallFailed, LogLevel.Error, "The gRPC call of type '{Type}' failed; answered ErrorResponse 500.")]
    public static partial void GrpcCallFailed(ILogger logger, string type, Exception exception);

    [LoggerMessage(EventIds.NotServedByLine, LogLevel.Debug, "{Path} is not served by server line {ServerLine}: answered {Status}.")]
    public static partial void NotServedByLine(ILogger logger, string path, string serverLine, int status);
}
