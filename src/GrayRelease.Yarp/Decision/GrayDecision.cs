using System.Collections;
using GrayRelease.Routing;

namespace GrayRelease.Yarp;

/// <summary>
/// The outcome of the gateway rules: the gray status and, when a lane's entry rules matched, the lane. One instance per
/// (status, rule, lane entry) is built when the rules are compiled, so a request reuses it as log scope state and metric
/// tags instead of allocating them.
/// </summary>
internal sealed class GrayDecision : IReadOnlyList<KeyValuePair<string, object?>>
{
    public const string DisabledRule = "disabled";
    public const string NoRule = "none";

    /// <summary>Activity tag and log scope key of the lane: the same key the services use, so one query follows a lane across hops.</summary>
    public const string LaneScopeKey = "gray.lane";

    /// <summary>Activity tag and log scope key of the lane rule that matched.</summary>
    public const string LaneRuleKey = "grayrelease.lane_rule";

    private readonly KeyValuePair<string, object?>[] _entries;
    private readonly string _text;

    public GrayDecision(GrayStatus status, string rule, string? lane = null, string? laneRule = null)
    {
        Status = status;
        Rule = rule;
        Lane = lane;
        LaneRule = lane is null ? null : laneRule;

        // Interned once here, not per request: the request's context then carries the key and each pick indexes by it.
        LaneKey = lane is null ? null : LaneRegistry.Intern(lane);
        WireValue = status.ToWireValue();
        StatusMetricTag = new("status", WireValue);
        RuleMetricTag = new("rule", rule);

        // Lane names come from configuration only (never from the client), so the tag's values stay a small, known set.
        LaneMetricTag = new("lane", lane ?? string.Empty);
        _entries = lane is null
            ? [new("grayrelease.status", WireValue), new("grayrelease.rule", rule)]
            : [new("grayrelease.status", WireValue), new("grayrelease.rule", rule), new(LaneScopeKey, lane), new(LaneRuleKey, LaneRule)];
        _text = lane is null
            ? $"GrayStatus:{WireValue} GrayRule:{rule}"
            : $"GrayStatus:{WireValue} GrayRule:{rule} GrayLane:{lane} LaneRule:{LaneRule}";

        // Made once: entering it allocates no frame per request, in a lane too (LaneKey keeps a root frame per status).
        Frame = GrayFrame.Prepare(status, lane);
    }

    public GrayStatus Status { get; }

    public string Rule { get; }

    /// <summary>The lane the request entered, or <see langword="null"/> for the baseline.</summary>
    public string? Lane { get; }

    /// <summary>The lane's key (<see langword="null"/> without a lane, or if the process knows more lanes than it keys).</summary>
    public LaneKey? LaneKey { get; }

    /// <summary>The lane's entry rule that matched (<c>header</c>, <c>ip</c>, ...), or <see langword="null"/> without a lane.</summary>
    public string? LaneRule { get; }

    public string WireValue { get; }

    public KeyValuePair<string, object?> StatusMetricTag { get; }

    public KeyValuePair<string, object?> RuleMetricTag { get; }

    /// <summary>The <c>lane</c> tag: the lane's name, or the empty string for the baseline.</summary>
    public KeyValuePair<string, object?> LaneMetricTag { get; }

    /// <summary>The gray context frame of this decision, made once, so entering it allocates no frame per request.</summary>
    internal GrayFrame Frame { get; }

    public int Count => _entries.Length;

    public KeyValuePair<string, object?> this[int index] =>
        (uint)index < (uint)_entries.Length ? _entries[index] : throw new ArgumentOutOfRangeException(nameof(index));

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_entries).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _entries.GetEnumerator();

    public override string ToString() => _text;
}
