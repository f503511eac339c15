namespace GrayRelease.Rollouts.Tests;

public sealed class JudgeTests
{
    private static readonly GrayReleaseOptions Versions = new() { ProdVersion = "V1", GrayVersion = "V2" };

    [Fact]
    public void A_window_below_the_minimum_sample_is_inconclusive()
    {
        var verdict = Judge(Counts(19, 0, 10_000), Counts(500, 0, 10_000), new RolloutOptions { MinRequestsPerSide = 20 });

        Assert.Equal(VerdictOutcome.Inconclusive, verdict.Outcome);
        Assert.Contains("19 gray / 500 prod requests, 20 needed per side", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Ten_percent_errors_against_none_fails()
    {
        var verdict = Judge(Counts(200, 20, 10_000), Counts(800, 0, 10_000), new RolloutOptions { MinRequestsPerSide = 50 });

        Assert.Equal(VerdictOutcome.Fail, verdict.Outcome);
        Assert.Contains("error rate 10.00 % gray vs 0.00 % prod", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_significant_but_tolerated_error_increase_passes()
    {
        // 1.2 % vs 0.5 % of 20 000 is significant, but below the one-point tolerance.
        var verdict = Judge(Counts(20_000, 240, 10_000), Counts(20_000, 100, 10_000), new RolloutOptions());

        Assert.Equal(VerdictOutcome.Pass, verdict.Outcome);
    }

    [Fact]
    public void Three_times_slower_fails_on_latency()
    {
        var verdict = Judge(Counts(300, 0, 30_000), Counts(300, 0, 10_000), new RolloutOptions { MinRequestsPerSide = 100 });

        Assert.Equal(VerdictOutcome.Fail, verdict.Outcome);
        Assert.Contains("latency p99", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Same_behaviour_passes()
    {
        var verdict = Judge(Counts(300, 3, 10_000), Counts(900, 9, 10_000), new RolloutOptions { MinRequestsPerSide = 100 });

        Assert.Equal(VerdictOutcome.Pass, verdict.Outcome);
        Assert.Contains("svc: gray V2 3/300 errors", verdict.Figures(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_service_not_in_the_release_is_not_judged()
    {
        var versions = new GrayReleaseOptions { ProdVersion = "V1", GrayVersion = "V2", Services = { ["svc"] = new() { GrayVersion = "V1" } } };
        var window = new Dictionary<SeriesKey, SeriesCounts>
        {
            [new("svc", "V1", "")] = Counts(500, 0, 10_000),
        };

        var verdict = RolloutJudge.Judge(window, versions, new RolloutOptions());

        Assert.Equal(VerdictOutcome.Inconclusive, verdict.Outcome);
        Assert.Empty(verdict.Services);
    }

    internal static IntervalVerdict Judge(SeriesCounts gray, SeriesCounts prod, RolloutOptions options)
    {
        var window = new Dictionary<SeriesKey, SeriesCounts>
        {
            [new("svc", "V2", "")] = gray,
            [new("svc", "V1", "")] = prod,
        };
        return RolloutJudge.Judge(window, Versions, options);
    }

    internal static SeriesCounts Counts(long requests, long errors, long micros)
    {
        var outcomes = new long[Outcomes.Count];
        outcomes[(int)Outcome.Success] = requests - errors;
        outcomes[(int)Outcome.ServerError] = errors;
        return new SeriesCounts(outcomes, StatisticsTests.Histogram((micros, requests)));
    }
}
