using System.Diagnostics.Metrics;

namespace GrayRelease.Diagnostics;

/// <summary>Meter <c>GrayRelease</c>: picks per service and version, no-instance failures, inbound requests per status.</summary>
internal sealed class GrayReleaseMetrics
{
    public const string MeterName = "GrayRelease";

    /// <summary>The <c>lane</c> tag of a request whose lane this process does not know; no lane name can take this form.</summary>
    public const string UnknownLane = "(unknown)";

    private readonly Counter<long> _picks;
    private readonly Counter<long> _noInstance;
    private readonly Counter<long> _inbound;

    public GrayReleaseMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _picks = meter.CreateCounter<long>("grayrelease.loadbalancer.picks", "{pick}", "Instances picked by the gray load balancer.");
        _noInstance = meter.CreateCounter<long>("grayrelease.loadbalancer.no_instance", "{failure}", "Calls that found no instance of the wanted version.");
        _inbound = meter.CreateCounter<long>("grayrelease.requests", "{request}", "Inbound requests by gray status.");
    }

    // lane: the picked instance's lane, the empty string for the baseline.
    public void InstancePicked(string serviceName, string version, string lane = "")
    {
        if (_picks.Enabled)
        {
            _picks.Add(1, new KeyValuePair<string, object?>("service", serviceName), new KeyValuePair<string, object?>("version", version), new KeyValuePair<string, object?>("lane", lane));
        }
    }

    // lane: the request's lane if this process knows it (LaneRegistry), UnknownLane if not, the empty string when it has none.
    public void NoInstance(string serviceName, GrayStatus? status, string? lane = null)
    {
        _noInstance.Add(1, new KeyValuePair<string, object?>("service", serviceName), new KeyValuePair<string, object?>("status", StatusTag(status)), new KeyValuePair<string, object?>("lane", lane ?? string.Empty));
    }

    public void InboundRequest(GrayStatus? status)
    {
        if (_inbound.Enabled)
        {
            _inbound.Add(1, new KeyValuePair<string, object?>("status", StatusTag(status)));
        }
    }

    internal static string StatusTag(GrayStatus? status) => status?.ToWireValue() ?? "NONE";
}
