using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace GrayRelease.Rollouts;

/// <summary>Transitions as metrics (meter <c>GrayRelease.Rollouts</c>) and Activities (source <c>GrayRelease.Rollouts</c>).</summary>
internal sealed class RolloutTelemetry
{
    public static readonly ActivitySource Source = new(TrafficObserver.MeterName);

    private readonly Counter<long> _transitions;
    private readonly Counter<long> _intervals;

    public RolloutTelemetry(IMeterFactory meterFactory, Func<double?> percentage)
    {
        var meter = meterFactory.Create(TrafficObserver.MeterName);
        _transitions = meter.CreateCounter<long>("grayrelease.rollout.transitions", "{transition}", "Rollout transitions made by this gateway, by status before and after.");
        _intervals = meter.CreateCounter<long>("grayrelease.rollout.intervals", "{interval}", "Rollout intervals judged by this gateway, by outcome.");
        meter.CreateObservableGauge("grayrelease.rollout.percentage", () => percentage() ?? 0, "%", "Gray percentage the rollout applies on this gateway.");
    }

    public void Transition(RolloutTransition entry, string grayVersion)
    {
        _transitions.Add(1, new("grayrelease.rollout.from", entry.From.ToString()), new("grayrelease.rollout.to", entry.To.ToString()));
        using var activity = Source.StartActivity("grayrelease.rollout.transition", ActivityKind.Internal);
        activity?.AddEvent(new ActivityEvent("grayrelease.rollout.transition", tags: new ActivityTagsCollection
        {
            ["grayrelease.rollout.from"] = entry.From.ToString(),
            ["grayrelease.rollout.to"] = entry.To.ToString(),
            ["grayrelease.rollout.from_step"] = entry.FromStep,
            ["grayrelease.rollout.to_step"] = entry.ToStep,
            ["grayrelease.rollout.percentage"] = entry.Percentage,
            ["grayrelease.rollout.gray_version"] = grayVersion,
            ["grayrelease.rollout.reason"] = entry.Reason,
            ["grayrelease.rollout.figures"] = entry.Figures,
            ["grayrelease.rollout.by"] = entry.By,
        }));
    }

    public void Interval(string outcome) => _intervals.Add(1, new KeyValuePair<string, object?>("grayrelease.rollout.outcome", outcome));
}
