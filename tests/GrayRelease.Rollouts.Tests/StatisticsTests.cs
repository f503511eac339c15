namespace GrayRelease.Rollouts.Tests;

public sealed class StatisticsTests
{
    [Theory]
    [InlineData(0, 0.5)]
    [InlineData(1.6448536, 0.05)]
    [InlineData(2.3263479, 0.01)]
    [InlineData(-1.6448536, 0.95)]
    public void Upper_tail_of_the_standard_normal_matches_the_tables(double z, double expected)
    {
        Assert.Equal(expected, Statistics.UpperTail(z), 5);
    }

    [Fact]
    public void Fisher_exact_gives_the_hypergeometric_tail()
    {
        // 3 of 10 gray requests failed, 0 of 10 prod: P(X >= 3) = C(17,7) / C(20,10) = 19448 / 184756.
        var (p, method) = Statistics.ErrorRateGreater(3, 10, 0, 10);

        Assert.Equal("Fisher exact", method);
        Assert.Equal(19448.0 / 184756.0, p, 6);
    }

    [Fact]
    public void Two_proportion_z_test_is_used_on_large_counts()
    {
        // 6 % vs 3 % of 1000: pooled 4.5 %, se 0.0092709, z 3.2359, one-sided p 0.000606.
        var (p, method) = Statistics.ErrorRateGreater(60, 1000, 30, 1000);

        Assert.Equal("z-test", method);
        Assert.Equal(0.000606, p, 5);
    }

    [Fact]
    public void Equal_error_rates_are_not_significant()
    {
        var (p, _) = Statistics.ErrorRateGreater(30, 1000, 30, 1000);

        Assert.Equal(0.5, p, 6);
    }

    [Fact]
    public void No_errors_on_either_side_is_not_significant()
    {
        var (p, _) = Statistics.ErrorRateGreater(0, 500, 0, 500);

        Assert.Equal(1, p);
    }

    [Fact]
    public void Mann_Whitney_finds_a_slower_gray_and_not_a_faster_one()
    {
        var fast = Histogram((10_000, 400), (12_000, 100));
        var slow = Histogram((30_000, 400), (36_000, 100));

        var (slower, effect) = Statistics.LatencyGreater(slow, fast);
        var (faster, _) = Statistics.LatencyGreater(fast, slow);

        Assert.True(slower < 1e-6, $"p {slower}");
        Assert.Equal(1, effect, 6);
        Assert.True(faster > 0.99, $"p {faster}");
    }

    [Fact]
    public void Mann_Whitney_on_identical_histograms_is_not_significant()
    {
        var same = Histogram((10_000, 300), (20_000, 150), (40_000, 50));

        var (p, effect) = Statistics.LatencyGreater(same, same);

        Assert.True(p > 0.4, $"p {p}");
        Assert.Equal(0.5, effect, 6);
    }

    [Fact]
    public void Latency_buckets_are_monotonic_and_about_a_fifth_wide()
    {
        var previous = -1;
        for (var micros = 1L; micros < 60_000_000; micros = (micros * 11 / 10) + 1)
        {
            var index = LatencyBuckets.IndexOfTicks(micros * System.Diagnostics.Stopwatch.Frequency / 1_000_000);
            Assert.True(index >= previous);
            previous = index;
            if (micros > 100)
            {
                var seconds = micros / 1_000_000.0;
                Assert.InRange(seconds, LatencyBuckets.LowerSeconds(index) * 0.99, LatencyBuckets.UpperSeconds(index) * 1.01);
                Assert.True(LatencyBuckets.UpperSeconds(index) / LatencyBuckets.LowerSeconds(index) < 1.26);
            }
        }
    }

    /// <summary>A latency histogram with <c>count</c> requests at each latency (µs).</summary>
    internal static long[] Histogram(params (long Micros, long Count)[] entries)
    {
        var histogram = new long[LatencyBuckets.Count];
        foreach (var (micros, count) in entries)
        {
            histogram[LatencyBuckets.IndexOfTicks(micros * System.Diagnostics.Stopwatch.Frequency / 1_000_000)] += count;
        }

        return histogram;
    }
}
