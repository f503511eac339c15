using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Diagnostics;

/// <summary>Services nobody calls any more (issue 16): event ids 630-639.</summary>
internal static partial class Log
{
    [LoggerMessage(EventIds.ServiceEvicted, LogLevel.Debug, "Service '{ServiceName}' is no longer kept fresh (not picked for GrayRelease:IdleServiceTimeout): its {Kind} stopped and its nacos:MaxServices slot is free; its snapshot stays, and the next lookup fetches it again.")]
    public static partial void ServiceEvicted(ILogger logger, string serviceName, string kind);
}
