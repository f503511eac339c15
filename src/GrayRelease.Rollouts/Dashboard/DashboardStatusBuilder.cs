using System.Diagnostics;
using System.Globalization;
using GrayRelease.Yarp;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace GrayRelease.Rollouts;

/// <summary>Assembles <see cref="DashboardStatus"/> from what the gateway already holds: options, YARP's destinations, the observer, the rollout.</summary>
internal sealed class DashboardStatusBuilder(
    IOptionsMonitor<GrayReleaseOptions> release,
    IOptionsMonitor<GrayGatewayOptions> gateway,
    IProxyStateLookup proxy,
    TrafficObserver observer,
    TimeProvider time,
    IRolloutStatus? rollout = null)
{
    /// <summary>The chart's span: most of the observer's rolling window (<see cref="TrafficSeries.WindowSeconds"/>).</summary>
    internal const int WindowSeconds = 120;

    internal const int BucketSeconds = 10;

    public DashboardStatus Build()
    {
        var options = release.CurrentValue;
        var gatewayOptions = gateway.CurrentValue;
        return new DashboardStatus(
            time.GetUtcNow(),
            options.ProdVersion,
            options.GrayVersion,
            gatewayOptions.Enabled,
            Rules(gatewayOptions),
            Services(options),
            Traffic(Stopwatch.GetTimestamp()),
            rollout?.GetSnapshot());
    }

    internal static List<DashboardRule> Rules(GrayGatewayOptions options)
    {
        var rules = new List<DashboardRule>();
        if (options.Enabled)
        {
            AddRules(rules, "gray", 0, options.HeaderName, options.HeaderValue, options.IpList, options.CityList, options.UserIdList, options.Percentage);
        }

        foreach (var (name, lane) in options.Lanes.OrderBy(l => l.Value.Priority).ThenBy(l => l.Key, StringComparer.Ordinal))
        {
            AddRules(rules, name, lane.Priority, lane.HeaderName, lane.HeaderValue, lane.IpList, lane.CityList, lane.UserIdList, lane.Percentage);
        }

        return rules;
    }

    private static void AddRules(List<DashboardRule> rules, string lane, int priority, string? headerName, string? headerValue, List<string> ips, List<string> cities, List<string> users, double percentage)
    {
        if (!string.IsNullOrEmpty(headerName) && !string.IsNullOrEmpty(headerValue))
        {
            rules.Add(new(lane, priority, "header", headerName + ": " + headerValue));
        }

        if (ips.Count > 0)
        {
            rules.Add(new(lane, priority, "ip", string.Join(", ", ips)));
        }

        if (cities.Count > 0)
        {
            rules.Add(new(lane, priority, "city", string.Join(", ", cities)));
        }

        if (users.Count > 0)
        {
            rules.Add(new(lane, priority, "user", string.Join(", ", users)));
        }

        if (percentage > 0)
        {
            rules.Add(new(lane, priority, "percentage", percentage.ToString("0.##", CultureInfo.InvariantCulture) + " %"));
        }
    }

    private List<DashboardService> Services(GrayReleaseOptions options)
    {
        var services = new List<DashboardService>();
        foreach (var cluster in proxy.GetClusters().OrderBy(c => c.ClusterId, StringComparer.Ordinal))
        {
            var model = cluster.Model;
            var instances = new List<DashboardInstance>();
            string? service = model.Config.Metadata is { } clusterMetadata && clusterMetadata.TryGetValue(GrayReleaseProxy.ServiceMetadataKey, out var named) && !string.IsNullOrEmpty(named) ? named : null;
            foreach (var destination in cluster.Destinations.Values)
            {
                var config = destination.Model.Config;
                var metadata = config.Metadata;
                service ??= metadata is not null && metadata.TryGetValue(GrayReleaseProxy.ServiceMetadataKey, out var fromDestination) && !string.IsNullOrEmpty(fromDestination) ? fromDestination : null;
                instances.Add(new DashboardInstance(
                    destination.DestinationId,
                    config.Address,
                    Value(metadata, options.MetadataKey),
                    Value(metadata, options.LaneMetadataKey),
                    Health(destination),
                    metadata is not null && metadata.TryGetValue(GrayReleaseProxy.WeightMetadataKey, out var weight) && double.TryParse(weight, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed : 1));
            }

            instances.Sort(static (a, b) =>
            {
                var byLane = string.CompareOrdinal(a.Lane, b.Lane);
                if (byLane != 0)
                {
                    return byLane;
                }

                var byVersion = string.CompareOrdinal(a.Version, b.Version);
                return byVersion != 0 ? byVersion : string.CompareOrdinal(a.Address, b.Address);
            });
            services.Add(new DashboardService(service ?? cluster.ClusterId, cluster.ClusterId, instances));
        }

        return services;
    }

    private static string Value(IReadOnlyDictionary<string, string>? metadata, string key) =>
        metadata is not null && metadata.TryGetValue(key, out var value) ? value : string.Empty;

    private static string Health(DestinationState destination)
    {
        var health = destination.Health;
        if (health.Active == DestinationHealth.Unhealthy || health.Passive == DestinationHealth.Unhealthy)
        {
            return "Unhealthy";
        }

        return health.Active == DestinationHealth.Healthy || health.Passive == DestinationHealth.Healthy ? "Healthy" : "Unknown";
    }

    internal DashboardTraffic Traffic(long nowTicks)
    {
        var buckets = WindowSeconds / BucketSeconds;
        var byVersion = new Dictionary<(string Service, string Version), (long[] Requests, long[] Errors)>();
        foreach (var series in observer.Series)
        {
            var window = series.ReadWindow(WindowSeconds, nowTicks);
            var key = (series.Key.Service, series.Key.Version);
            if (!byVersion.TryGetValue(key, out var sums))
            {
                sums = (new long[buckets], new long[buckets]);
                byVersion[key] = sums;
            }

            for (var i = 0; i < window.Length; i++)
            {
                var counts = window[i];
                var bucket = Math.Min(buckets - 1, i / BucketSeconds);
                sums.Requests[bucket] += counts[0] + counts[1] + counts[2] + counts[3];
                sums.Errors[bucket] += counts[(int)Outcome.ServerError] + counts[(int)Outcome.TransportError];
            }
        }

        var totals = byVersion.GroupBy(p => p.Key.Service, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(p => p.Value.Requests.Sum()), StringComparer.Ordinal);
        var versions = new List<DashboardVersionTraffic>();
        foreach (var ((service, version), (requests, errors)) in byVersion.OrderBy(p => p.Key.Service, StringComparer.Ordinal).ThenBy(p => p.Key.Version, StringComparer.Ordinal))
        {
            var total = requests.Sum();
            var failed = errors.Sum();
            var points = new DashboardPoint[buckets];
            for (var i = 0; i < buckets; i++)
            {
                points[i] = new DashboardPoint(requests[i], errors[i]);
            }

            versions.Add(new DashboardVersionTraffic(
                service,
                version,
                total,
                failed,
                totals[service] > 0 ? (double)total / totals[service] : 0,
                total > 0 ? (double)failed / total : 0,
                points));
        }

        return new DashboardTraffic(WindowSeconds, BucketSeconds, versions);
    }
}
