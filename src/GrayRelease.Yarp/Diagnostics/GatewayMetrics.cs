using System.Diagnostics.Metrics;

namespace GrayRelease.Yarp;

/// <summary>Metrics of the gray gateway, on the meter <c>GrayRelease.Yarp</c>.</summary>
internal sealed class GatewayMetrics
{
    public const string MeterName = "GrayRelease.Yarp";

    private readonly Counter<long> _decisions;

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _decisions = meter.CreateCounter<long>("grayrelease.gateway.decisions", "{decision}", "Gray decisions made by the gateway, by status, matching rule and lane.");
    }

    public void RecordDecision(GrayDecision decision) => _decisions.Add(1, decision.StatusMetricTag, decision.RuleMetricTag, decision.LaneMetricTag);
}
