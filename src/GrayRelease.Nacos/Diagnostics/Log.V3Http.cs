using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Diagnostics;

/// <summary>The v3 client HTTP API of Nacos 3.x (event ids 500-519).</summary>
internal static partial class Log
{
    [LoggerMessage(EventIds.V3ApiChosen, LogLevel.Information, "Nacos {Module} over HTTP uses the v3 client API (/v3/client): {Why}; it has no push and no long polling, so lists and configurations are polled every {Interval}")]
    public static partial void V3ApiChosen(ILogger logger, string module, string why, TimeSpan interval);

    [LoggerMessage(EventIds.NoHttpApi, LogLevel.Warning, "Nacos server {Server} answered {StatusCode} to the v1 {Call} and also to its v3 client API: neither is served at this address (check nacos:ServerAddresses and the context path)")]
    public static partial void NoHttpApi(ILogger logger, Uri server, string call, int statusCode);
}
