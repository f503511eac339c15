namespace GrayRelease.Rollouts.Tests;

public sealed class OptionsValidatorTests
{
    private readonly RolloutOptionsValidator _validator = new();

    [Fact]
    public void Defaults_are_valid()
    {
        Assert.True(_validator.Validate(null, new RolloutOptions()).Succeeded);
        Assert.Equal([1, 5, 25, 50, 100], new RolloutOptions().EffectiveSteps);
    }

    [Theory]
    [InlineData(new double[] { 5, 1, 100 }, "GrayRelease:Gateway:Rollout:Steps:1 is 1; steps must increase (the previous one is 5).")]
    [InlineData(new double[] { 1, 5, 50 }, "GrayRelease:Gateway:Rollout:Steps:2 is 50; the last step must be 100.")]
    [InlineData(new double[] { 0, 100 }, "GrayRelease:Gateway:Rollout:Steps:0 is 0; every step must be above 0 and at most 100.")]
    public void Bad_steps_are_refused_naming_the_key_and_the_value(double[] steps, string message)
    {
        var result = _validator.Validate(null, new RolloutOptions { Steps = [.. steps] });

        Assert.Contains(message, result.Failures!);
    }

    [Fact]
    public void Other_bad_values_are_refused_naming_the_key()
    {
        var result = _validator.Validate(null, new RolloutOptions
        {
            Interval = TimeSpan.Zero,
            MinRequestsPerSide = 0,
            FailureThreshold = 0,
            LeaseDuration = TimeSpan.FromSeconds(-1),
            Promotion = RolloutPromotion.PublishProdVersion,
            StateDataId = "a b",
            LeaseDataId = "a b",
            Checks = new() { Confidence = 0.3, ErrorRateTolerance = -1, LatencyP99Tolerance = 0.5 },
        });

        var text = string.Join("\n", result.Failures!);
        foreach (var key in new[] { "Interval is 00:00:00", "MinRequestsPerSide is 0", "FailureThreshold is 0", "LeaseDuration is -00:00:01", "PromotionDataId is ''", "StateDataId is 'a b'", "LeaseDataId is 'a b', the same as", "Checks:Confidence is 0.3", "Checks:ErrorRateTolerance is -1", "Checks:LatencyP99Tolerance is 0.5" })
        {
            Assert.Contains("GrayRelease:Gateway:Rollout:" + key, text, StringComparison.Ordinal);
        }
    }
}
