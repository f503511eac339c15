using GrayRelease.Diagnostics;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Propagation;

/// <summary>
/// Logs ignored baggage list-members at most once a minute, with a count: any client can send malformed baggage on
/// every request, and one line per request would let it flood the logs.
/// </summary>
internal sealed class MalformedBaggageReporter
{
    private static readonly TimeSpan Period = TimeSpan.FromMinutes(1);

    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private long _pending;
    private string? _firstReason;
    private long _lastReport = long.MinValue;

    public MalformedBaggageReporter(TimeProvider time, ILoggerFactory loggerFactory)
    {
        _time = time;
        _logger = loggerFactory.CreateLogger("GrayRelease.Propagation");
    }

    public void Report(BaggageParseResult result)
    {
        var count = result.Malformed + result.BeyondLimits;
        if (count == 0)
        {
            return;
        }

        long reported;
        string reason;
        lock (_gate)
        {
            _pending += count;
            _firstReason ??= result.FirstProblem;
            var now = _time.GetTimestamp();
            if (_lastReport != long.MinValue && _time.GetElapsedTime(_lastReport, now) < Period)
            {
                return;
            }

            _lastReport = now;
            reported = _pending;
            reason = _firstReason ?? "malformed";
            _pending = 0;
            _firstReason = null;
        }

        Log.MalformedBaggage(_logger, reported, reason);
    }
}
