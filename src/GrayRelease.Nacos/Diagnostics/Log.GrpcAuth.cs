using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Diagnostics;

/// <summary>Auth over gRPC (event ids 520-529) and the redo retry of the gRPC connection (530-539).</summary>
internal static partial class Log
{
    [LoggerMessage(EventIds.GrpcTokenRejected, LogLevel.Information, "A gRPC call was refused with errorCode 403 (token expired or unknown to the server); logging in again at {Server} and retrying once")]
    public static partial void GrpcTokenRejected(ILogger logger, Uri server);

    [LoggerMessage(EventIds.GrpcPermissionDenied, LogLevel.Error, "Nacos at {Server} refused {RequestType} with errorCode 403 although the login is fresh: the user lacks the permission")]
    public static partial void GrpcPermissionDenied(ILogger logger, string server, string requestType);

    [LoggerMessage(EventIds.GrpcRedoRetryScheduled, LogLevel.Warning, "{Count} redo step(s) failed on gRPC connection {ConnectionId} to Nacos at {Server}; trying again every {Delay} while connected")]
    public static partial void GrpcRedoRetryScheduled(ILogger logger, int count, string connectionId, string server, TimeSpan delay);

    [LoggerMessage(EventIds.GrpcRedoRetried, LogLevel.Information, "A redo step that had failed on gRPC connection {ConnectionId} succeeded on retry")]
    public static partial void GrpcRedoRetried(ILogger logger, string connectionId);
}
