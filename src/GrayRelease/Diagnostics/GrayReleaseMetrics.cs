using System.Diagnostics.Metrics;
using GrayRelease.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

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
    private readonly Counter<long> _evictions;

    // Service names and versions come from callers' host names and from the registry: each tag keeps at most
    // GrayRelease:MaxMetricTagValues values (read once, at start-up), the rest are counted as "(other)".
    private readonly MetricTagLimiter _services;
    private readonly MetricTagLimiter _versions;

    public GrayReleaseMetrics(IMeterFactory meterFactory, IOptions<GrayReleaseOptions>? options = null, ILogger<GrayReleaseMetrics>? logger = null)
    {
        var meter = meterFactory.Create(MeterName);
        _picks = meter.CreateCounter<long>("grayrelease.loadbalancer.picks", "{pick}", "Instances picked by the gray load balancer.");
        _noInstance = meter.CreateCounter<long>("grayrelease.loadbalancer.no_instance", "{failure}", "Calls that found no instance of the wanted version.");
        _inbound = meter.CreateCounter<long>("grayrelease.requests", "{request}", "Inbound requests by gray status.");
        _evictions = meter.CreateCounter<long>("grayrelease.loadbalancer.evictions", "{service}", "Services forgotten by the load balancer after GrayRelease:IdleServiceTimeout without a pick.");
        var capacity = options?.Value.MaxMetricTagValues ?? GrayReleaseOptions.DefaultMaxMetricTagValues;
        ILogger log = logger ?? NullLogger<GrayReleaseMetrics>.Instance;
        _services = new MetricTagLimiter("service", capacity, log);
        _versions = new MetricTagLimiter("version", capacity, log);
    }

    // lane: the picked instance's lane, the empty string for the baseline.
    public void InstancePicked(string serviceName, string version, string lane = "")
    {
        if (_picks.Enabled)
        {
            _picks.Add(1, new KeyValuePair<string, object?>("service", _services.Admit(serviceName)), new KeyValuePair<string, object?>("version", _versions.Admit(version)), new KeyValuePair<string, object?>("lane", InstanceLaneTag(lane)));
        }
    }

    // lane: the request's lane if this process knows it (LaneRegistry), UnknownLane if not, the empty string when it has none.
    public void NoInstance(string serviceName, GrayStatus? status, string? lane = null)
    {
        _noInstance.Add(1, new KeyValuePair<string, object?>("service", _services.Admit(serviceName)), new KeyValuePair<string, object?>("status", StatusTag(status)), new KeyValuePair<string, object?>("lane", lane ?? string.Empty));
    }

    public void InboundRequest(GrayStatus? status)
    {
        if (_inbound.Enabled)
        {
            _inbound.Add(1, new KeyValuePair<string, object?>("status", StatusTag(status)));
        }
    }

    // Tag-free: the names are in the sweep's log line; a service tag would add series for services that are gone.
    public void ServicesEvicted(int count) => _evictions.Add(count);

    internal static string StatusTag(GrayStatus? status) => status?.ToWireValue() ?? "NONE";

    // An instance's lane comes from registry metadata: only lanes the LaneRegistry holds (at most its capacity) are tag
    // values, so the lane tag is bounded like the request's lane in NoInstance.
    private static string InstanceLaneTag(string lane) =>
        lane.Length == 0 || LaneRegistry.Find(lane) is not null ? lane : MetricTagLimiter.Other;
}
