using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Diagnostics;

/// <summary>Transport and auth messages (event ids 200-249).</summary>
internal static partial class Log
{
    [LoggerMessage(EventIds.ApiGone, LogLevel.Error, "Nacos server {Server} answered 410 Gone to {Call}: its v1 Open API is switched off (nacos.core.api.compatibility.client.enabled=false, or a Nacos 3.2+ server)")]
    public static partial void ApiGone(ILogger logger, Uri server, string call);

    [LoggerMessage(EventIds.PermissionDenied, LogLevel.Error, "Nacos server {Server} refused {Call} to user {UserName} with 403 although its login is fresh: the user lacks the permission")]
    public static partial void PermissionDenied(ILogger logger, Uri server, string call, string userName);

    [LoggerMessage(EventIds.RequestFailedOnServer, LogLevel.Debug, "Nacos server {Server} answered {Path} with status {StatusCode}: an error of this request, not an outage (no failover)")]
    public static partial void RequestFailedOnServer(ILogger logger, Uri server, string path, int statusCode);

    [LoggerMessage(EventIds.LoginPathNotServed, LogLevel.Debug, "Nacos server {Server} does not serve the login path {Path} ({StatusCode}); trying the next one")]
    public static partial void LoginPathNotServed(ILogger logger, Uri server, string path, int statusCode);

    [LoggerMessage(EventIds.DeferredLogsDropped, LogLevel.Warning, "{Count} Nacos configuration message(s) written before logging was set up were dropped (only the first ones are kept)")]
    public static partial void DeferredLogsDropped(ILogger logger, int count);
}
