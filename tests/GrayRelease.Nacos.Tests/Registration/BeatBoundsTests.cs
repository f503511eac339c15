using GrayRelease.Nacos.Naming;
using GrayRelease.Nacos.Registration;

namespace GrayRelease.Nacos.Tests.Registration;

public sealed class BeatBoundsTests
{
    private static NacosRegistration Registration(params (string Key, string Value)[] metadata) => new(
        "order-app", "DEFAULT_GROUP", "DEFAULT", "10.0.0.5", 7201, 1, Enabled: true, Ephemeral: true,
        metadata.ToDictionary(m => m.Key, m => m.Value));

    [Theory]
    [InlineData("1e400", double.PositiveInfinity)]
    [InlineData("-1e400", double.NegativeInfinity)]
    [InlineData("5000000000", 5e9)]
    [InlineData("9223372036854775807", 9.223372036854775807e18)]
    [InlineData("\"7000\"", 7000d)]
    [InlineData("\"soon\"", null)]
    [InlineData("{}", null)]
    [InlineData("null", null)]
    public void Any_clientBeatInterval_parses_without_throwing(string interval, double? expected)
    {
        var beat = NacosBeatResult.Parse("{\"clientBeatInterval\":" + interval + ",\"code\":10200,\"lightBeatEnabled\":true}");

        Assert.NotNull(beat);
        Assert.Equal(expected, beat.Value.ClientBeatInterval);
        Assert.True(beat.Value.LightBeatEnabled);
    }

    [Theory]
    [InlineData(double.PositiveInfinity, 60_000)]
    [InlineData(5e9, 60_000)]
    [InlineData(9.2e18, 60_000)]
    [InlineData(1, 1_000)]
    [InlineData(5_000, 5_000)]
    [InlineData(0, 5_000)]
    [InlineData(-5_000, 5_000)]
    [InlineData(double.NegativeInfinity, 5_000)]
    public void Server_given_intervals_are_clamped_to_one_second_to_one_minute(double answered, double expectedMillis)
    {
        var bounds = BeatBounds.For(Registration());

        var (interval, _) = bounds.Clamp(answered, bounds.Initial);

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMillis), interval);
    }

    [Fact]
    public void The_instances_own_sub_second_interval_lowers_the_floor()
    {
        var bounds = BeatBounds.For(Registration(("preserved.heart.beat.interval", "200")));

        Assert.Equal(TimeSpan.FromMilliseconds(200), bounds.Initial);
        Assert.Equal(TimeSpan.FromMilliseconds(200), bounds.Clamp(200, bounds.Initial).Interval);
        Assert.Equal(TimeSpan.FromMilliseconds(200), bounds.Clamp(50, bounds.Initial).Interval);
    }

    [Fact]
    public void Failed_beats_are_retried_after_one_second_then_doubling_up_to_the_interval()
    {
        var interval = TimeSpan.FromSeconds(5);

        var delays = Enumerable.Range(1, 5).Select(n => BeatBounds.RetryDelay(n, interval).TotalSeconds);

        Assert.Equal([1, 2, 4, 5, 5], delays);
        Assert.Equal(TimeSpan.FromMilliseconds(500), BeatBounds.RetryDelay(1, TimeSpan.FromMilliseconds(500)));
    }

    [Theory]
    [InlineData("{\"clientBeatInterval\":5000,\"code\":20404,\"lightBeatEnabled\":true}", true)]
    [InlineData("{\"clientBeatInterval\":5000,\"code\":10200,\"lightBeatEnabled\":true}", false)]
    public void Code_20404_means_register_again(string body, bool mustRegister)
    {
        Assert.Equal(mustRegister, NacosBeatResult.Parse(body)!.Value.MustRegister);
    }

    [Fact]
    public void A_500_answer_means_register_again()
    {
        Assert.True(new NacosBeatResult(null, NacosBeatResult.ServerRefused, false, "service not found").MustRegister);
    }
}
