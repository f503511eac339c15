using System.Globalization;
using Microsoft.Extensions.Options;

namespace GrayRelease.Rollouts;

/// <summary>Rejects rollout options that cannot work, naming the configuration key and the bad value.</summary>
internal sealed class RolloutOptionsValidator : IValidateOptions<RolloutOptions>
{
    private const string Prefix = RolloutOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, RolloutOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var steps = options.Steps;
        for (var i = 0; i < steps.Count; i++)
        {
            if (!double.IsFinite(steps[i]) || steps[i] is <= 0 or > 100)
            {
                failures.Add(F($"{Prefix}Steps:{i} is {steps[i]}; every step must be above 0 and at most 100."));
            }
            else if (i > 0 && steps[i] <= steps[i - 1])
            {
                failures.Add(F($"{Prefix}Steps:{i} is {steps[i]}; steps must increase (the previous one is {steps[i - 1]})."));
            }
        }

        if (steps.Count > 0 && steps[^1] != 100)
        {
            failures.Add(F($"{Prefix}Steps:{steps.Count - 1} is {steps[^1]}; the last step must be 100."));
        }

        if (options.Interval <= TimeSpan.Zero)
        {
            failures.Add(F($"{Prefix}Interval is {options.Interval}; it must be positive."));
        }

        if (options.MinRequestsPerSide < 1)
        {
            failures.Add(F($"{Prefix}MinRequestsPerSide is {options.MinRequestsPerSide}; it must be at least 1."));
        }

        if (options.FailureThreshold < 1)
        {
            failures.Add(F($"{Prefix}FailureThreshold is {options.FailureThreshold}; it must be at least 1."));
        }

        if (options.LeaseDuration <= TimeSpan.Zero)
        {
            failures.Add(F($"{Prefix}LeaseDuration is {options.LeaseDuration}; it must be positive."));
        }

        if (!Enum.IsDefined(options.Promotion))
        {
            failures.Add(F($"{Prefix}Promotion is {options.Promotion}; it must be Stop or PublishProdVersion."));
        }

        if (options.Promotion == RolloutPromotion.PublishProdVersion && !IsValidName(options.PromotionDataId))
        {
            failures.Add(F($"{Prefix}PromotionDataId is '{options.PromotionDataId}'; PublishProdVersion needs the dataId holding GrayRelease:ProdVersion (letters, digits and _ . - : only)."));
        }

        CheckName(options.StateDataId, "StateDataId", failures);
        CheckName(options.LeaseDataId, "LeaseDataId", failures);
        CheckName(options.Group, "Group", failures);
        if (string.Equals(options.StateDataId, options.LeaseDataId, StringComparison.Ordinal))
        {
            failures.Add(F($"{Prefix}LeaseDataId is '{options.LeaseDataId}', the same as {Prefix}StateDataId; they must differ."));
        }

        var checks = options.Checks ?? new RolloutChecksOptions();
        if (!double.IsFinite(checks.Confidence) || checks.Confidence is < 0.5 or > 0.9999)
        {
            failures.Add(F($"{Prefix}Checks:Confidence is {checks.Confidence}; it must be between 0.5 and 0.9999."));
        }

        if (!double.IsFinite(checks.ErrorRateTolerance) || checks.ErrorRateTolerance is < 0 or >= 1)
        {
            failures.Add(F($"{Prefix}Checks:ErrorRateTolerance is {checks.ErrorRateTolerance}; it must be at least 0 and below 1."));
        }

        if (!double.IsFinite(checks.LatencyP99Tolerance) || checks.LatencyP99Tolerance < 1)
        {
            failures.Add(F($"{Prefix}Checks:LatencyP99Tolerance is {checks.LatencyP99Tolerance}; it must be at least 1."));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    internal static bool IsValidName(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '.' or '-' or ':'))
            {
                return false;
            }
        }

        return true;
    }

    private static void CheckName(string? value, string key, List<string> failures)
    {
        if (!IsValidName(value))
        {
            failures.Add($"{Prefix}{key} is '{value}'; a Nacos dataId or group has letters, digits and _ . - : only.");
        }
    }

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
