using Microsoft.Extensions.Logging;

namespace GrayRelease.Diagnostics;

/// <summary>Log lines of W3C baggage propagation (event ids 20–39).</summary>
internal static partial class Log
{
    [LoggerMessage(EventIds.IgnoredGrayBaggageMember, LogLevel.Debug, "Ignored gray baggage member '{Key}' from {Source}: {Reason}.")]
    public static partial void IgnoredGrayBaggageMember(ILogger logger, string key, string source, string reason);

    [LoggerMessage(EventIds.MalformedBaggage, LogLevel.Warning, "Ignored {Count} malformed or over-limit W3C baggage list-member(s) since the last report (the first: {Reason}); the rest of each header was used. Reported at most once a minute.")]
    public static partial void MalformedBaggage(ILogger logger, long count, string reason);
}
