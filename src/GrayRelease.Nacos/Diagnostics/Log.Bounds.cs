using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Diagnostics;

/// <summary>Caps on what grows with input (issue 16): event ids 600-609.</summary>
internal static partial class Log
{
    [LoggerMessage(EventIds.KnownServiceCapReached, LogLevel.Warning, "nacos:MaxServices ({Max}) reached: {Refused} service lookup(s) refused (the last: '{ServiceName}'); a refused service is not cached, subscribed, polled or snapshotted, and its lookups fail with a NacosException for 10 s at a time. Raise nacos:MaxServices if this process calls that many services. Logged at most every 10 minutes")]
    public static partial void KnownServiceCapReached(ILogger logger, int max, long refused, string serviceName);
}
