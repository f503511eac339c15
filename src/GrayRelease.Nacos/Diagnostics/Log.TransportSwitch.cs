using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Diagnostics;

// 610-629: naming under nacos:Transport = Auto moving from HTTP to gRPC once the gRPC port answers (issue 16).
internal static partial class Log
{
    [LoggerMessage(EventIds.NamingTransportSwitched, LogLevel.Information, "Nacos naming moves from HTTP to gRPC: {Reason}")]
    public static partial void NamingTransportSwitched(ILogger logger, string reason);

    [LoggerMessage(EventIds.RegistrationMovedToGrpc, LogLevel.Information, "Moved the registration {Registration} to gRPC: registered over gRPC, heartbeats stopped, HTTP registration removed")]
    public static partial void RegistrationMovedToGrpc(ILogger logger, string registration);

    [LoggerMessage(EventIds.DiscoveryMovedToGrpc, LogLevel.Information, "Moved discovery to gRPC: {Count} cached service(s) subscribed over gRPC; their poll loops end")]
    public static partial void DiscoveryMovedToGrpc(ILogger logger, int count);

    [LoggerMessage(EventIds.NamingReprobeMissed, LogLevel.Debug, "The Nacos gRPC port still does not answer ServerCheck (naming stays on HTTP); probing again in {Delay}")]
    public static partial void NamingReprobeMissed(ILogger logger, TimeSpan delay);

    [LoggerMessage(EventIds.NamingReprobeFailed, LogLevel.Warning, "Probing the Nacos gRPC port again failed; probing again in {Delay}")]
    public static partial void NamingReprobeFailed(ILogger logger, Exception exception, TimeSpan delay);

    [LoggerMessage(EventIds.HttpRegistrationRemovalFailed, LogLevel.Warning, "Removing the HTTP registration of {Registration} after its move to gRPC failed; it expires once its heartbeats are missed")]
    public static partial void HttpRegistrationRemovalFailed(ILogger logger, Exception exception, string registration);

    [LoggerMessage(EventIds.DiscoveryMoveFailed, LogLevel.Warning, "Moving discovery to gRPC failed; the poll loops go on and subscribe over gRPC at their next turn")]
    public static partial void DiscoveryMoveFailed(ILogger logger, Exception exception);
}
