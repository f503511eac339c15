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
}
