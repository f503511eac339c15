using Microsoft.Extensions.Logging;

namespace GrayRelease.Diagnostics;

// Forgetting services nobody calls any more (issue 16): event ids 70-79.
internal static partial class Log
{
    [LoggerMessage(EventIds.IdleServicesEvicted, LogLevel.Information, "Forgot {Count} service(s) not picked for GrayRelease:IdleServiceTimeout ({Timeout}): {Services}; the next call to one looks it up again.")]
    public static partial void IdleServicesEvicted(ILogger logger, int count, TimeSpan timeout, string services);

    [LoggerMessage(EventIds.IdleSweepFailed, LogLevel.Warning, "The sweep of idle services failed; it runs again at its next period.")]
    public static partial void IdleSweepFailed(ILogger logger, Exception exception);
}
