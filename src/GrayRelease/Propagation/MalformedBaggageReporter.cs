using GrayRelease.Diagnostics;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Propagation;

/// <summary>
/// Logs ignored baggage list-members at most once a minute, with a count: any client can send malformed baggage on
/// every request, and one line per request would let it flood the logs.
/// </summary>
internal sealed class MalformedBaggageReporter
{
    private readonly LogThrottle _throttle;
    private readonly ILogger _logger;
    private long _pending;
    private string? _firstReason;

    public MalformedBaggageReporter(TimeProvider time, ILoggerFactory loggerFactory)
    {
        _throttle = new LogThrottle(TimeSpan.FromMinutes(1), time);
        _logger = loggerFactory.CreateLogger("GrayRelease.Propagation");
    }

    public void Report(BaggageParseResult result)
    {
        var count = result.Malformed + result.BeyondLimits;
        if (count == 0)
        {
            return;
        }

        // The line counts list-members, not reports (one header may carry several), so the count is kept here.
        Interlocked.Add(ref _pending, count);
        if (result.FirstProblem is { } problem)
        {
            Interlocked.CompareExchange(ref _firstReason, problem, null);
        }

        if (_throttle.TryEnter(out _))
        {
            Log.MalformedBaggage(_logger, Interlocked.Exchange(ref _pending, 0), Interlocked.Exchange(ref _firstReason, null) ?? "malformed");
        }
    }
}
