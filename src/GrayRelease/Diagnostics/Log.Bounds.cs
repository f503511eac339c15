using Microsoft.Extensions.Logging;

namespace GrayRelease.Diagnostics;

// Caps on what grows with input (issue 16): event ids 60-69.
internal static partial class Log
{
    [LoggerMessage(EventIds.UnknownServiceCapReached, LogLevel.Warning, "GrayRelease:MaxUnknownServices ({Max}) reached: {Skipped} host name(s) the instance provider does not know were not remembered (the last: '{ServiceName}'); each is asked of the provider again on every call and the request goes out untouched. Raise GrayRelease:MaxUnknownServices if this many names are expected. Logged at most every 10 minutes.")]
    public static partial void UnknownServiceCapReached(ILogger logger, int max, long skipped, string serviceName);

    [LoggerMessage(EventIds.MetricTagCapReached, LogLevel.Warning, "The metric tag '{Tag}' reached GrayRelease:MaxMetricTagValues ({Max}) distinct values; further values (the first: '{Value}') are recorded as '(other)'. Logged once.")]
    public static partial void MetricTagCapReached(ILogger logger, string tag, int max, string value);

    [LoggerMessage(EventIds.ConfiguredSpellingCapReached, LogLevel.Warning, "{Max} spellings of configured service names have been looked up; '{ServiceName}' is answered as unknown (configured names match case-insensitively: use one spelling per service). Logged once.")]
    public static partial void ConfiguredSpellingCapReached(ILogger logger, int max, string serviceName);
}
