using GrayRelease.Discovery;
using GrayRelease.Routing;

namespace GrayRelease.LoadBalancing;

/// <summary>
/// The load balancer's view of one service: the shared <see cref="RoutingTable{T}"/> over its routable instances, plus
/// what only the load balancer needs (the metadata key it was grouped by, the quarantine horizon). Built when the
/// instance list changes and swapped in atomically.
/// </summary>
internal sealed class ServiceRoutingTable
{
    private static readonly Func<RouteMember<ServiceInstance>[], WeightedRotation<ServiceInstance>> NewGroup = static members => new(members);

    private readonly RoutingTable<ServiceInstance> _routing;
    private long _quarantineHorizon;

    private ServiceRoutingTable(string metadataKey, string laneMetadataKey, int instanceCount, RoutingTable<ServiceInstance> routing)
    {
        MetadataKey = metadataKey;
        LaneMetadataKey = laneMetadataKey;
        InstanceCount = instanceCount;
        _routing = routing;
    }

    public string ServiceName => _routing.ServiceName;

    public string MetadataKey { get; }

    public string LaneMetadataKey { get; }

    /// <summary>Whether the instances were grouped by the metadata keys <paramref name="options"/> name.</summary>
    public bool IsGroupedFor(GrayReleaseOptions options) =>
        string.Equals(MetadataKey, options.MetadataKey, StringComparison.Ordinal)
        && string.Equals(LaneMetadataKey, options.LaneMetadataKey, StringComparison.Ordinal);

    /// <summary>Every instance the provider reported, routable or not.</summary>
    public int InstanceCount { get; }

    /// <summary>Every routable instance, whatever its version.</summary>
    public WeightedRotation<ServiceInstance> All => _routing.All;

    /// <summary>Baseline versions that have at least one routable instance, sorted.</summary>
    public IReadOnlyCollection<string> AvailableVersions => _routing.AvailableVersions;

    /// <summary>Lanes that have at least one routable instance, sorted.</summary>
    public IReadOnlyCollection<string> AvailableLanes => _routing.AvailableLanes;

    /// <summary>
    /// Timestamp at which the last quarantine of any instance ends, or 0 when none is active; while 0 a pick need
    /// not read the clock.
    /// </summary>
    public long QuarantineHorizon => Volatile.Read(ref _quarantineHorizon);

    public void ExtendQuarantineHorizon(long until)
    {
        var current = Volatile.Read(ref _quarantineHorizon);
        while (until > current)
        {
            var seen = Interlocked.CompareExchange(ref _quarantineHorizon, until, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>Clears the horizon once it has passed, unless a newer quarantine moved it meanwhile.</summary>
    public void ClearQuarantineHorizon(long expired) => Interlocked.CompareExchange(ref _quarantineHorizon, 0, expired);

    /// <inheritdoc cref="RoutingTable{T}.GetRoute(GrayReleaseOptions, GrayStatus?, string?)" />
    public Route<ServiceInstance> GetRoute(GrayReleaseOptions options, GrayStatus? status, string? lane) => _routing.GetRoute(options, status, lane);

    /// <inheritdoc cref="RoutingTable{T}.GetRoute(GrayReleaseOptions, GrayStatus?, LaneKey?, string?)" />
    public Route<ServiceInstance> GetRoute(GrayReleaseOptions options, GrayStatus? status, LaneKey? laneKey, string? lane) => _routing.GetRoute(options, status, laneKey, lane);

    /// <inheritdoc cref="RoutingTable{T}.Fail" />
    public RouteFailure Fail(GrayStatus? status, string? lane, in Route<ServiceInstance> route) => _routing.Fail(status, lane, route);

    /// <summary>Builds a table, carrying the passive-health state of instances that were already known.</summary>
    public static ServiceRoutingTable Build(string serviceName, IReadOnlyList<ServiceInstance> instances, string metadataKey, ServiceRoutingTable? previous, string laneMetadataKey = "lane")
    {
        Dictionary<string, RouteMember<ServiceInstance>>? previousByAddress = null;
        if (previous is not null && previous.MetadataKey == metadataKey && previous.LaneMetadataKey == laneMetadataKey)
        {
            previousByAddress = new Dictionary<string, RouteMember<ServiceInstance>>(StringComparer.OrdinalIgnoreCase);
            foreach (var known in previous.All.Instances)
            {
                previousByAddress.TryAdd(known.Instance.Address, known);
            }
        }

        var quarantineHorizon = 0L;
        var members = new List<RouteMember<ServiceInstance>>(instances.Count);
        foreach (var instance in instances)
        {
            if (!instance.IsRoutable)
            {
                continue;
            }

            var member = new RouteMember<ServiceInstance>(instance, instance.GetMetadata(metadataKey) ?? string.Empty, instance.Weight, instance.GetMetadata(laneMetadataKey) ?? string.Empty);
            if (previousByAddress is not null && previousByAddress.TryGetValue(instance.Address, out var known))
            {
                member.QuarantineUntil(known.QuarantinedUntil);
                quarantineHorizon = Math.Max(quarantineHorizon, known.QuarantinedUntil);
            }

            members.Add(member);
        }

        var table = new ServiceRoutingTable(metadataKey, laneMetadataKey, instances.Count, RoutingTable<ServiceInstance>.Build(serviceName, members, NewGroup));
        table.ExtendQuarantineHorizon(quarantineHorizon);
        return table;
    }
}
