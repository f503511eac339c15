namespace GrayRelease.Soak.Tests;

public sealed class SoakJudgeTests
{
    [Theory]
    [InlineData("90s", 90)]
    [InlineData("2m", 120)]
    [InlineData("1h30m", 5400)]
    [InlineData("00:02:00", 120)]
    public void Durations_parse(string value, double seconds) =>
        Assert.Equal(seconds, SoakOptions.ParseDuration("--duration", value).TotalSeconds);

    [Theory]
    [InlineData("2")]
    [InlineData("m")]
    [InlineData("-5m")]
    public void Bad_durations_name_the_option(string value) =>
        Assert.Contains("--duration", Assert.Throws<ArgumentException>(() => SoakOptions.ParseDuration("--duration", value)).Message, StringComparison.Ordinal);

    [Fact]
    public void The_slope_is_the_least_squares_one()
    {
        // y = 3x + 1 with noise that cancels out.
        (double, double)[] points = [(0, 1.5), (1, 3.5), (2, 6.5), (3, 10.5)];
        Assert.Equal(3.0, Judge.Slope(points), 6);
        Assert.Equal(0.0, Judge.Slope([(1, 5), (1, 7)]));
    }

    [Fact]
    public void A_loop_leaked_every_few_minutes_fails_the_long_judge_and_a_flat_noisy_run_passes()
    {
        var options = SoakOptions.Parse(["--duration", "1h"]);
        // One sample every 5 s for an hour: a leak of one loop per registry restart (every 3 min), against the same
        // process flat but with its heap and sockets wandering as a loaded machine makes them wander.
        var leaking = Rows(t => 7 + Math.Floor(t / 180), t => 3 + Math.Sin(t / 200));
        var flat = Rows(_ => 7, t => 3 + Math.Sin(t / 200));

        var leaked = Judge.Evaluate(options, leaking, [], load: null);
        var healthy = Judge.Evaluate(options, flat, [], load: null);

        Assert.False(leaked.Passed);
        Assert.Contains(leaked.Failures, f => f.StartsWith("order-app-V1 loops:", StringComparison.Ordinal));
        Assert.True(healthy.Passed, string.Join('\n', healthy.Failures));
        var loops = Assert.Single(healthy.Series, s => s.Series == "loops");
        Assert.Equal(0, loops.SlopePerHour, 6);
    }

    [Fact]
    public void A_step_of_code_files_passes_the_long_judge_and_a_descriptor_leaked_per_restart_fails_it()
    {
        var options = SoakOptions.Parse(["--duration", "1h"]);
        // Half-way through, a first exception loads System.Diagnostics.StackTrace, System.Reflection.Metadata and a
        // few symbol files: +12 descriptors once. Against a process that leaks one pipe per registry restart.
        var step = Rows(_ => 7, _ => 3, t => (Code: t < 1800 ? 150 : 162, Other: 20));
        var leak = Rows(_ => 7, _ => 3, t => (Code: 150, Other: 20 + Math.Floor(t / 180)));

        var stepped = Judge.Evaluate(options, step, [], load: null);
        var leaked = Judge.Evaluate(options, leak, [], load: null);

        Assert.True(stepped.Passed, string.Join('\n', stepped.Failures));
        Assert.Equal("reported (judged as sockets and fds_other)", Assert.Single(stepped.Series, s => s.Series == "fds").Limit);
        Assert.False(leaked.Passed);
        Assert.Contains(leaked.Failures, f => f.StartsWith("order-app-V1 fds_other:", StringComparison.Ordinal));
    }

    [Fact]
    public void A_run_sampled_before_fds_other_existed_is_judged_on_all_its_descriptors()
    {
        var options = SoakOptions.Parse(["--duration", "1h"]);
        var rows = Rows(_ => 7, _ => 3);
        foreach (var row in rows)
        {
            row.Values["fds"] = 170 + Math.Floor(row.Seconds / 180);
        }

        var result = Judge.Evaluate(options, rows, [], load: null);

        Assert.Contains(result.Failures, f => f.StartsWith("order-app-V1 fds:", StringComparison.Ordinal));
    }

    [Fact]
    public void Restarts_are_read_back_from_the_events()
    {
        var restarts = Report.RestartsFromEvents(
        [
            (180, "registry restart: down for 5 s"),
            (186, "registry restart: up again, ephemeral instances gone"),
            (188, "registry restart: every service and gateway registered again 2.0 s after"),
            (360, "registry restart: down for 5 s"),
            (366, "registry restart: up again, ephemeral instances gone"),
            (426, "registry restart: NOT every instance registered again within 60 s"),
        ]);

        Assert.Equal(2, restarts.Count);
        Assert.Equal(2.0, restarts[0].ReRegisteredAfterSeconds);
        Assert.Null(restarts[1].ReRegisteredAfterSeconds);
    }

    private static List<SampleRow> Rows(Func<double, double> loops, Func<double, double> heap, Func<double, (double Code, double Other)>? descriptors = null) =>
        [.. Enumerable.Range(0, 720).Select(i => i * 5.0).Select(t =>
        {
            var values = new Dictionary<string, double>(StringComparer.Ordinal)
            {
                ["alive"] = 1,
                ["registry_conns"] = 2,
                ["loops"] = loops(t),
                ["heap_mb"] = heap(t),
                ["sockets"] = 40 + (10 * Math.Sin(t / 90)),
            };
            if (descriptors?.Invoke(t) is { } fds)
            {
                values["fds_code"] = fds.Code;
                values["fds_other"] = fds.Other;
                values["fds"] = fds.Code + fds.Other + values["sockets"];
            }

            return new SampleRow(t, DateTimeOffset.UnixEpoch.AddSeconds(t), "order-app-V1", 42, values);
        })];
}
