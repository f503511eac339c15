using System.Globalization;
using Xunit.Abstractions;

namespace GrayRelease.Rollouts.Tests;

/// <summary>
/// A/A: gray and prod drawn from one distribution (1 % errors, log-normal latency, median 20 ms). Seeded, so the
/// figures are the same on every run; the false-positive rates are written to the test output.
/// </summary>
public sealed class AaSimulationTests(ITestOutputHelper output)
{
    private const int Intervals = 400;

    [Fact]
    public void Identical_versions_do_not_roll_back_in_400_intervals()
    {
        var (failed, rollbacks) = Simulate(new RolloutOptions { MinRequestsPerSide = 100 }, seed: 14);
        var rate = (double)failed / Intervals;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"A/A with the default checks (confidence 0.99, tolerances 1 point / 1.2x p99): {failed} of {Intervals} intervals failed (false-positive rate {rate:P2}), {rollbacks} rollback(s) at threshold 2."));

        Assert.Equal(0, rollbacks);
        Assert.True(rate <= 0.01, $"false-positive rate {rate:P2}");
    }

    [Fact]
    public void Without_tolerances_the_tests_fail_identical_versions_at_about_their_significance_level()
    {
        var options = new RolloutOptions { MinRequestsPerSide = 100, Checks = new() { ErrorRateTolerance = 0, LatencyP99Tolerance = 1 } };
        var (failed, rollbacks) = Simulate(options, seed: 15);
        var rate = (double)failed / Intervals;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"A/A with the bare tests (confidence 0.99, no tolerance, two checks): {failed} of {Intervals} intervals failed (false-positive rate {rate:P2}; at most about 2 % expected), {rollbacks} rollback(s) at threshold 2."));

        // Two one-sided tests at 1 % each: at most about 2 %; allow sampling noise on 400 intervals.
        Assert.True(rate <= 0.045, $"false-positive rate {rate:P2}");
    }

    private static (int Failed, int Rollbacks) Simulate(RolloutOptions options, int seed)
    {
        var random = new Random(seed);
        var versions = new GrayReleaseOptions { ProdVersion = "V1", GrayVersion = "V2" };
        int failed = 0, consecutive = 0, rollbacks = 0;
        for (var i = 0; i < Intervals; i++)
        {
            var window = new Dictionary<SeriesKey, SeriesCounts>
            {
                [new("svc", "V2", "")] = Draw(random, 250),
                [new("svc", "V1", "")] = Draw(random, 750),
            };
            var verdict = RolloutJudge.Judge(window, versions, options);
            if (verdict.Outcome == VerdictOutcome.Fail)
            {
                failed++;
                if (++consecutive >= 2)
                {
                    rollbacks++;
                    consecutive = 0;
                }
            }
            else
            {
                consecutive = 0;
            }
        }

        return (failed, rollbacks);
    }

    private static SeriesCounts Draw(Random random, int requests)
    {
        var outcomes = new long[Outcomes.Count];
        var latency = new long[LatencyBuckets.Count];
        for (var i = 0; i < requests; i++)
        {
            outcomes[random.NextDouble() < 0.01 ? (int)Outcome.ServerError : (int)Outcome.Success]++;

            // Box-Muller: log-normal with median 20 ms and sigma 0.5.
            var normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            var seconds = 0.020 * Math.Exp(0.5 * normal);
            latency[LatencyBuckets.IndexOfTicks((long)(seconds * System.Diagnostics.Stopwatch.Frequency))]++;
        }

        return new SeriesCounts(outcomes, latency);
    }
}
