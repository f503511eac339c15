namespace GrayRelease.Diagnostics;

/// <summary>
/// Lets one log line through per interval and counts the lines held back in between, so that input arriving on every
/// request (a failing rule, a flood of datagrams, a cap reached) cannot flood the log while its scale stays visible.
/// Lock-free and allocation-free per call; the first call always gets through.
/// </summary>
internal sealed class LogThrottle
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private long _allowedAt = long.MinValue;
    private long _suppressed;

    public LogThrottle(TimeSpan interval, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(time);
        _interval = interval;
        _time = time;
    }

    /// <summary>
    /// <see langword="true"/> when a line may be written now; <paramref name="suppressed"/> is then how many calls were
    /// held back since the last line written (0 when refused).
    /// </summary>
    public bool TryEnter(out long suppressed)
    {
        var now = _time.GetTimestamp();
        var at = Interlocked.Read(ref _allowedAt);

        // Only the caller that moves the window on writes the line; a racing one counts as held back.
        if (now >= at && Interlocked.CompareExchange(ref _allowedAt, now + (long)(_interval.TotalSeconds * _time.TimestampFrequency), at) == at)
        {
            suppressed = Interlocked.Exchange(ref _suppressed, 0);
            return true;
        }

        Interlocked.Increment(ref _suppressed);
        suppressed = 0;
        return false;
    }
}
