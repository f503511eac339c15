using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Diagnostics;

// 400-449: naming (registration, discovery) over gRPC and the naming transport choice.
internal static partial class Log
{
    [LoggerMessage(EventIds.NamingTransportChosen, LogLevel.Information, "Nacos naming (registration, discovery) uses {Protocol}: {Reason}")]
    public static partial void NamingTransportChosen(ILogger logger, string protocol, string reason);

    [LoggerMessage(EventIds.GrpcInstanceRedone, LogLevel.Information, "Re-registered {Registration} with Nacos after a reconnect")]
    public static partial void GrpcInstanceRedone(ILogger logger, string registration);

    [LoggerMessage(EventIds.GrpcNamingRedoFailed, LogLevel.Warning, "Redo of {What} after a reconnect to Nacos failed; it is redone on the next connect")]
    public static partial void GrpcNamingRedoFailed(ILogger logger, Exception exception, string what);

    [LoggerMessage(EventIds.GrpcMalformedList, LogLevel.Warning, "Ignored an instance list from Nacos ({Source}): {Reason}")]
    public static partial void GrpcMalformedList(ILogger logger, string source, string reason);

    [LoggerMessage(EventIds.GrpcUnsubscribeFailed, LogLevel.Debug, "Unsubscribing from {ServiceName} (unknown to Nacos) failed")]
    public static partial void GrpcUnsubscribeFailed(ILogger logger, Exception exception, string serviceName);

    [LoggerMessage(EventIds.NamingTransportUndecided, LogLevel.Warning, "No Nacos server answered (gRPC or HTTP) to choose the naming transport (nacos:Transport is Auto); choosing again on the next call")]
    public static partial void NamingTransportUndecided(ILogger logger);

    [LoggerMessage(EventIds.RecoveryRefresh, LogLevel.Information, "Recovery window for {ServiceName} over; fetching its full list from Nacos")]
    public static partial void RecoveryRefresh(ILogger logger, string serviceName);
}
