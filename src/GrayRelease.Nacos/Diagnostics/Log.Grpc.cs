using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Diagnostics;

// 300-399: gRPC transport (connection, stream, server push). No line carries a token; strings from the network are shortened.
internal static partial class Log
{
    [LoggerMessage(EventIds.GrpcConnected, LogLevel.Information, "Connected to Nacos over gRPC at {Server} (connection {ConnectionId})")]
    public static partial void GrpcConnected(ILogger logger, string server, string connectionId);

    [LoggerMessage(EventIds.GrpcConnectFailed, LogLevel.Warning, "Could not connect to Nacos over gRPC at {Server}: {Reason}")]
    public static partial void GrpcConnectFailed(ILogger logger, string server, string reason);

    [LoggerMessage(EventIds.GrpcDisconnected, LogLevel.Warning, "gRPC connection {ConnectionId} to Nacos at {Server} ended: {Reason}; reconnecting")]
    public static partial void GrpcDisconnected(ILogger logger, string server, string connectionId, string reason);

    [LoggerMessage(EventIds.GrpcConnectReset, LogLevel.Information, "Nacos at {Server} asked for a reconnect (ConnectResetRequest); next server: {Target}")]
    public static partial void GrpcConnectReset(ILogger logger, string server, string target);

    [LoggerMessage(EventIds.GrpcBadServerMessage, LogLevel.Warning, "Ignored a message from Nacos at {Server} on the gRPC stream: {Reason}")]
    public static partial void GrpcBadServerMessage(ILogger logger, string server, string reason);

    [LoggerMessage(EventIds.GrpcUnhandledServerRequest, LogLevel.Debug, "No handler for the server request {Type} from Nacos at {Server}; not answered")]
    public static partial void GrpcUnhandledServerRequest(ILogger logger, string type, string server);

    [LoggerMessage(EventIds.GrpcPushHandlerFailed, LogLevel.Warning, "Handling the server request {Type} (requestId {RequestId}) failed; answered with an error so that the server retries")]
    public static partial void GrpcPushHandlerFailed(ILogger logger, Exception exception, string type, string requestId);

    [LoggerMessage(EventIds.GrpcRedoFailed, LogLevel.Warning, "A redo step after connecting to Nacos at {Server} failed")]
    public static partial void GrpcRedoFailed(ILogger logger, Exception exception, string server);

    [LoggerMessage(EventIds.GrpcLoopFailed, LogLevel.Error, "The Nacos gRPC {Loop} loop failed and goes on")]
    public static partial void GrpcLoopFailed(ILogger logger, Exception exception, string loop);

    [LoggerMessage(EventIds.GrpcHealthCheckFailed, LogLevel.Warning, "Health check of gRPC connection {ConnectionId} to Nacos at {Server} failed: {Reason}")]
    public static partial void GrpcHealthCheckFailed(ILogger logger, string server, string connectionId, string reason);

    [LoggerMessage(EventIds.GrpcStateHandlerFailed, LogLevel.Warning, "A handler of the Nacos gRPC connection state failed")]
    public static partial void GrpcStateHandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventIds.GrpcRedoDone, LogLevel.Debug, "Ran {Count} redo step(s) on gRPC connection {ConnectionId} in {ElapsedMs} ms")]
    public static partial void GrpcRedoDone(ILogger logger, int count, string connectionId, long elapsedMs);

    [LoggerMessage(EventIds.GrpcClosed, LogLevel.Debug, "Closed the gRPC connection {ConnectionId} to Nacos at {Server}")]
    public static partial void GrpcClosed(ILogger logger, string server, string connectionId);
}
