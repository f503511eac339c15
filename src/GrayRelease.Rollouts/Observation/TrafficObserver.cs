using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using GrayRelease.Yarp;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Model;

namespace GrayRelease.Rollouts;

/// <summary>
/// Counts every proxied request's outcome and latency by (service, version, lane), lock-free, and exports them as
/// metrics on the meter <c>GrayRelease.Rollouts</c>. The per-request path looks a destination up in a weak table
/// (built once per destination model, so per YARP config change) and increments three counters: no allocation.
/// </summary>
internal sealed class TrafficObserver
{
    public const string MeterName = "GrayRelease.Rollouts";

    /// <summary>Lanes kept apart per destination; more (a misconfigured header) are counted under <see cref="OtherLane"/>.</summary>
    internal const int MaxLanesPerDestination = 16;

    internal const string OtherLane = "_other";

    private readonly ConcurrentDictionary<SeriesKey, TrafficSeries> _series = new();
    private const int RecentSlots = 64;

    private readonly ConditionalWeakTable<DestinationModel, DestinationSeries> _destinations = [];
    private readonly RecentDestination?[] _recent = new RecentDestination?[RecentSlots];
    private readonly Histogram<double> _duration;
    private volatile string _metadataKey;

    public TrafficObserver(IOptionsMonitor<GrayReleaseOptions> options, IMeterFactory meterFactory)
    {
        // Read on every request: kept in a field, refreshed on change, instead of asking the monitor each time.
        _metadataKey = options.CurrentValue.MetadataKey;
        options.OnChange(o => _metadataKey = o.MetadataKey);
        var meter = meterFactory.Create(MeterName);
        const string DurationDescription = "Duration of requests proxied by the gateway, by service, destination version, lane and outcome.";
#if NET9_0_OR_GREATER
        // The boundaries OpenTelemetry's semantic conventions advise for http.server.request.duration.
        _duration = meter.CreateHistogram<double>(
            "grayrelease.gateway.request.duration",
            "s",
            DurationDescription,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] });
#else
        _duration = meter.CreateHistogram<double>("grayrelease.gateway.request.duration", "s", DurationDescription);
#endif
        meter.CreateObservableCounter("grayrelease.gateway.requests", ObserveRequests, "{request}", "Requests proxied by the gateway, by service, destination version, lane and outcome.");
    }

    /// <summary>Every series seen so far.</summary>
    public ICollection<TrafficSeries> Series => _series.Values;

    /// <summary>The series of a key, created on first use.</summary>
    public TrafficSeries GetSeries(SeriesKey key) => _series.GetOrAdd(key, static k => new TrafficSeries(k));

    /// <summary>Records one request that reached <paramref name="destination"/>, ended at <paramref name="nowTicks"/> (<see cref="Stopwatch"/>); the hot path.</summary>
    public void Record(DestinationModel destination, ClusterModel cluster, string? lane, Outcome outcome, long elapsedTicks, long nowTicks)
    {
        var series = Resolve(destination, cluster, lane);
        series.Record(outcome, elapsedTicks, nowTicks);
        if (_duration.Enabled)
        {
            var tags = new TagList
            {
                series.Tags.Service,
                series.Tags.Version,
                series.Tags.Lane,
                new("grayrelease.outcome", Outcomes.TagValues[(int)outcome]),
            };
            _duration.Record(elapsedTicks / (double)Stopwatch.Frequency, tags);
        }
    }

    /// <summary>The cumulative counts of every series, by key.</summary>
    public Dictionary<SeriesKey, SeriesCounts> ReadAll()
    {
        var result = new Dictionary<SeriesKey, SeriesCounts>();
        foreach (var series in _series.Values)
        {
            result[series.Key] = series.Read();
        }

        return result;
    }

    internal TaggedSeries Resolve(DestinationModel destination, ClusterModel cluster, string? lane)
    {
        var metadataKey = _metadataKey;

        // A direct-mapped cache in front of the weak table: the object's identity hash picks the slot, a reference
        // compare confirms it (a few ns instead of the table's lookup). It holds at most 64 models strongly.
        ref var slot = ref _recent[RuntimeHelpers.GetHashCode(destination) & (RecentSlots - 1)];
        var recent = Volatile.Read(ref slot);
        DestinationSeries? entry;
        if (recent is not null && ReferenceEquals(recent.Model, destination) && recent.Entry.IsFor(cluster, metadataKey))
        {
            entry = recent.Entry;
        }
        else
        {
            if (!_destinations.TryGetValue(destination, out entry) || !entry.IsFor(cluster, metadataKey))
            {
                entry = new DestinationSeries(this, destination, cluster, metadataKey);
                _destinations.AddOrUpdate(destination, entry);
            }

            Volatile.Write(ref slot, new RecentDestination(destination, entry));
        }

        return entry.ForLane(lane ?? string.Empty);
    }

    private IEnumerable<Measurement<long>> ObserveRequests()
    {
        foreach (var series in _series.Values)
        {
            for (var i = 0; i < Outcomes.Count; i++)
            {
                var count = series.Count((Outcome)i);
                if (count > 0)
                {
                    yield return new Measurement<long>(
                        count,
                        new("grayrelease.service", series.Key.Service),
                        new("grayrelease.version", series.Key.Version),
                        new("grayrelease.lane", series.Key.Lane),
                        new("grayrelease.outcome", Outcomes.TagValues[i]));
                }
            }
        }
    }

    private sealed record RecentDestination(DestinationModel Model, DestinationSeries Entry);

    /// <summary>A series with its metric tags built once.</summary>
    internal sealed class TaggedSeries(TrafficSeries series)
    {
        public TrafficSeries Series { get; } = series;

        public (KeyValuePair<string, object?> Service, KeyValuePair<string, object?> Version, KeyValuePair<string, object?> Lane) Tags { get; } =
            (new("grayrelease.service", series.Key.Service), new("grayrelease.version", series.Key.Version), new("grayrelease.lane", series.Key.Lane));

        public void Record(Outcome outcome, long elapsedTicks, long nowTicks) => Series.Record(outcome, elapsedTicks, nowTicks);
    }

    /// <summary>The series a destination's requests land in, per lane; lanes are added copy-on-write.</summary>
    private sealed class DestinationSeries
    {
        private readonly TrafficObserver _owner;
        private readonly ClusterModel _cluster;
        private readonly string _metadataKey;
        private readonly string _service;
        private readonly string _version;
        private (string Lane, TaggedSeries Series)[] _lanes = [];

        public DestinationSeries(TrafficObserver owner, DestinationModel destination, ClusterModel cluster, string metadataKey)
        {
            _owner = owner;
            _cluster = cluster;
            _metadataKey = metadataKey;
            var metadata = destination.Config.Metadata;
            _version = metadata is not null && metadata.TryGetValue(metadataKey, out var version) ? version : string.Empty;

            // As the version filter names a cluster's service: cluster metadata, else the destination's, else the cluster id.
            _service = cluster.Config.Metadata is { } clusterMetadata && clusterMetadata.TryGetValue(GrayReleaseProxy.ServiceMetadataKey, out var clusterService) && !string.IsNullOrEmpty(clusterService)
                ? clusterService
                : metadata is not null && metadata.TryGetValue(GrayReleaseProxy.ServiceMetadataKey, out var service) && !string.IsNullOrEmpty(service)
                    ? service
                    : cluster.Config.ClusterId;
        }

        public bool IsFor(ClusterModel cluster, string metadataKey) =>
            ReferenceEquals(cluster, _cluster) && (ReferenceEquals(metadataKey, _metadataKey) || string.Equals(metadataKey, _metadataKey, StringComparison.Ordinal));

        public TaggedSeries ForLane(string lane)
        {
            var lanes = Volatile.Read(ref _lanes);
            foreach (var (known, series) in lanes)
            {
                if (ReferenceEquals(known, lane) || string.Equals(known, lane, StringComparison.Ordinal))
                {
                    return series;
                }
            }

            return AddLane(lane);
        }

        private TaggedSeries AddLane(string lane)
        {
            lock (this)
            {
                var lanes = _lanes;
                foreach (var (known, series) in lanes)
                {
                    if (string.Equals(known, lane, StringComparison.Ordinal))
                    {
                        return series;
                    }
                }

                var name = lanes.Length >= MaxLanesPerDestination ? OtherLane : lane;
                var added = new TaggedSeries(_owner.GetSeries(new SeriesKey(_service, _version, name)));
                if (lanes.Length < MaxLanesPerDestination)
                {
                    Volatile.Write(ref _lanes, [.. lanes, (lane, added)]);
                }

                return added;
            }
        }
    }
}
