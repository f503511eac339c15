using System.Collections;

namespace GrayRelease.Yarp;

/// <summary>
/// The outcome of the gateway rules. One instance per (status, rule) is built when the rules are compiled, so a request
/// reuses it as log scope state and metric tags instead of allocating them.
/// </summary>
internal sealed class GrayDecision : IReadOnlyList<KeyValuePair<string, object?>>
{
    public const string DisabledRule = "disabled";
    public const string NoRule = "none";

    private readonly KeyValuePair<string, object?> _statusTag;
    private readonly KeyValuePair<string, object?> _ruleTag;
    private readonly string _text;

    public GrayDecision(GrayStatus status, string rule)
    {
        Status = status;
        Rule = rule;
        WireValue = status.ToWireValue();
        _statusTag = new("grayrelease.status", WireValue);
        _ruleTag = new("grayrelease.rule", rule);
        StatusMetricTag = new("status", WireValue);
        RuleMetricTag = new("rule", rule);
        _text = $"GrayStatus:{WireValue} GrayRule:{rule}";
        Frame = GrayFrame.Prepare(status, lane: null);
    }

    public GrayStatus Status { get; }

    public string Rule { get; }

    public string WireValue { get; }

    public KeyValuePair<string, object?> StatusMetricTag { get; }

    public KeyValuePair<string, object?> RuleMetricTag { get; }

    /// <summary>The gray context frame of this decision, made once, so entering it allocates no frame per request.</summary>
    internal GrayFrame Frame { get; }

    public int Count => 2;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => _statusTag,
        1 => _ruleTag,
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return _statusTag;
        yield return _ruleTag;
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => _text;
}
