using System.Diagnostics;

namespace GrayRelease.Rollouts;

/// <summary>
/// The counters of one (service, version, lane): cumulative outcome counts and a latency histogram (what the judge
/// takes differences of), plus a ring of per-second outcome counts (the rolling window a status page shows). Written
/// with <see cref="Interlocked"/> only; readers copy without locks, so a snapshot may be a few requests behind.
/// </summary>
internal sealed class TrafficSeries
{
    /// <summary>Seconds the rolling window keeps (a power of two, so the slot is a mask).</summary>
    public const int WindowSeconds = 128;

    // Slot layout in _ring: [second, success, client error, server error, transport error, pad, pad, pad].
    private const int Stride = 8;

    private readonly long[] _outcomes = new long[Outcomes.Count];
    private readonly long[] _latency = new long[LatencyBuckets.Count];
    private readonly long[] _ring = new long[WindowSeconds * Stride];

    public TrafficSeries(SeriesKey key)
    {
        Key = key;
        for (var i = 0; i < WindowSeconds; i++)
        {
            _ring[i * Stride] = -1;
        }
    }

    public SeriesKey Key { get; }

    public void Record(Outcome outcome, long elapsedTicks, long nowTicks)
    {
        var index = (int)outcome;
        Interlocked.Increment(ref _outcomes[index]);
        Interlocked.Increment(ref _latency[LatencyBuckets.IndexOfTicks(elapsedTicks)]);

        var second = nowTicks / Stopwatch.Frequency;
        var slot = (int)(second & (WindowSeconds - 1)) * Stride;
        var held = Volatile.Read(ref _ring[slot]);
        if (held != second && held < second && Interlocked.CompareExchange(ref _ring[slot], second, held) == held)
        {
            // The slot held a second 128 s old: clear it. A writer racing this clear may lose its count; the window is
            // for display, the judge reads the cumulative counters.
            for (var i = 1; i <= Outcomes.Count; i++)
            {
                Volatile.Write(ref _ring[slot + i], 0);
            }
        }

        Interlocked.Increment(ref _ring[slot + 1 + index]);
    }

    /// <summary>A copy of the cumulative counters.</summary>
    public SeriesCounts Read()
    {
        var outcomes = new long[Outcomes.Count];
        for (var i = 0; i < outcomes.Length; i++)
        {
            outcomes[i] = Volatile.Read(ref _outcomes[i]);
        }

        var latency = new long[LatencyBuckets.Count];
        for (var i = 0; i < latency.Length; i++)
        {
            latency[i] = Volatile.Read(ref _latency[i]);
        }

        return new SeriesCounts(outcomes, latency);
    }

    /// <summary>Outcome counts per second for the last <paramref name="seconds"/> seconds ending at <paramref name="nowTicks"/>, oldest first.</summary>
    public long[][] ReadWindow(int seconds, long nowTicks)
    {
        seconds = Math.Clamp(seconds, 1, WindowSeconds - 1);
        var now = nowTicks / Stopwatch.Frequency;
        var result = new long[seconds][];
        for (var i = 0; i < seconds; i++)
        {
            var second = now - seconds + 1 + i;
            var slot = (int)(second & (WindowSeconds - 1)) * Stride;
            var counts = new long[Outcomes.Count];
            if (Volatile.Read(ref _ring[slot]) == second)
            {
                for (var j = 0; j < counts.Length; j++)
                {
                    counts[j] = Volatile.Read(ref _ring[slot + 1 + j]);
                }
            }

            result[i] = counts;
        }

        return result;
    }

    /// <summary>Cumulative outcome count, for the observable counter.</summary>
    public long Count(Outcome outcome) => Volatile.Read(ref _outcomes[(int)outcome]);
}
