using System.Globalization;

namespace UserApp;

/// <summary>
/// DEMO SWITCH, not for production: makes this instance a bad canary, so the demo can show a rollout rolling it back.
/// <c>--Demo:FailureRate=0.1</c> answers 10 % of requests with 500; <c>--Demo:ExtraLatencyMs=40</c> adds 40 ms to each.
/// Both off (0) by default.
/// </summary>
internal sealed class DemoFaults
{
    public const string SectionName = "Demo";

    /// <summary>Share of requests answered with HTTP 500 (0 to 1).</summary>
    public double FailureRate { get; set; }

    /// <summary>Milliseconds added to every request (0 to 60,000).</summary>
    public int ExtraLatencyMs { get; set; }

    public bool Any => FailureRate > 0 || ExtraLatencyMs > 0;

    /// <summary>Reads and validates the switch at start-up; a bad value stops the process with a message naming the key.</summary>
    public static DemoFaults Read(IConfiguration configuration)
    {
        var faults = configuration.GetSection(SectionName).Get<DemoFaults>() ?? new DemoFaults();
        if (!double.IsFinite(faults.FailureRate) || faults.FailureRate is < 0 or > 1)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"Demo:FailureRate is {faults.FailureRate}; it must be between 0 and 1 (0.1 = 10 % of requests fail)."));
        }

        if (faults.ExtraLatencyMs is < 0 or > 60_000)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"Demo:ExtraLatencyMs is {faults.ExtraLatencyMs}; it must be between 0 and 60000."));
        }

        return faults;
    }
}
