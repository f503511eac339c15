using System.Diagnostics;
using System.Numerics;

namespace GrayRelease.Rollouts;

/// <summary>
/// Fixed log-linear latency buckets: four per power of two of microseconds (about 19 % wide), from below 4 µs to about
/// 67 s. The index is computed with a leading-zero count, not a search, so recording costs a few instructions.
/// </summary>
internal static class LatencyBuckets
{
    private const int SubBuckets = 4;
    private const int MaxExponent = 26;

    /// <summary>Number of buckets; the last one also takes everything slower.</summary>
    public const int Count = (MaxExponent + 1) * SubBuckets;

    private static readonly double MicrosecondsPerTick = 1_000_000.0 / Stopwatch.Frequency;

    public static int IndexOfTicks(long elapsedTicks)
    {
        var micros = (ulong)(elapsedTicks <= 0 ? 1 : (long)(elapsedTicks * MicrosecondsPerTick) + 1);
        var exponent = 63 - BitOperations.LeadingZeroCount(micros);
        if (exponent < 2)
        {
            return (int)micros - 1;
        }

        if (exponent > MaxExponent)
        {
            return Count - 1;
        }

        var sub = (int)(micros >> (exponent - 2)) & (SubBuckets - 1);
        return (exponent * SubBuckets) + sub;
    }

    /// <summary>Lower bound of bucket <paramref name="index"/>, in seconds.</summary>
    public static double LowerSeconds(int index)
    {
        var exponent = index / SubBuckets;
        var sub = index % SubBuckets;
        double micros = exponent < 2 ? index + 1 : (double)(SubBuckets + sub) * (1L << (exponent - 2));
        return (micros - 1) / 1_000_000.0;
    }

    /// <summary>Upper bound of bucket <paramref name="index"/>, in seconds.</summary>
    public static double UpperSeconds(int index) => index >= Count - 1 ? LowerSeconds(index) * 1.19 : LowerSeconds(index + 1);

    /// <summary>The <paramref name="quantile"/> of a histogram (linear within the bucket); 0 when empty.</summary>
    public static double Quantile(ReadOnlySpan<long> histogram, double quantile)
    {
        long total = 0;
        foreach (var count in histogram)
        {
            total += count;
        }

        if (total == 0)
        {
            return 0;
        }

        var rank = quantile * total;
        long seen = 0;
        for (var i = 0; i < histogram.Length; i++)
        {
            if (histogram[i] == 0)
            {
                continue;
            }

            if (seen + histogram[i] >= rank)
            {
                var within = (rank - seen) / histogram[i];
                return LowerSeconds(i) + (within * (UpperSeconds(i) - LowerSeconds(i)));
            }

            seen += histogram[i];
        }

        return UpperSeconds(histogram.Length - 1);
    }
}
