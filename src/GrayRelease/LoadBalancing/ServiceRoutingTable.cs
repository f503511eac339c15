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

    private ServiceRoutingTable(string metadataKey, int instanceCount, RoutingTable<ServiceInstance> routing)
    {
        MetadataKey = metadataKey;
        InstanceCount = instanceCount;
        _routing = routing;
    }

    public string ServiceName => _routing.ServiceName;

    public string MetadataKey { get; }

    /// <summary>Every instance the provider reported, routable or not.</summary>
    public int InstanceCount { get; }

    /// <summary>Every routable instance, whatever its version.</summary>
    public WeightedRotation<ServiceInstance> All => _routing.All;

    /// <summary>Versions that have at least one routable instance, sorted.</summary>
    public IReadOnlyCollection<string> AvailableVersions => _routing.AvailableVersions;

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

    /// <inheritdoc cref="RoutingTable{T}.GetRoute" />
    public Route<ServiceInstance> GetRoute(GrayReleaseOptions options, GrayStatus? status) => _routing.GetRoute(options, status);

    /// <inheritdoc cref="RoutingTable{T}.Fail" />
    public RouteFailure Fail(GrayStatus? status, in Route<ServiceInstance> route) => _routing.Fail(status, route);

    /// <summary>Builds a table, carrying the passive-health state of instances that were already known.</summary>
    public static ServiceRoutingTable Build(string serviceName, IReadOnlyList<ServiceInstance> instances, string metadataKey, ServiceRoutingTable? previous)
    {
        Dictionary<string, RouteMember<ServiceInstance>>? previousByAddress = null;
        if (previous is not null && previous.MetadataKey == metadataKey)
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

            var member = new RouteMember<ServiceInstance>(instance, instance.GetMetadata(metadataKey) ?? string.Empty, instance.Weight);
            if (previousByAddress is not null && previousByAddress.TryGetValue(instance.Address, out var known))
            {
                member.QuarantineUntil(known.QuarantinedUntil);
                quarantineHorizon = Math.Max(quarantineHorizon, known.QuarantinedUntil);
            }

            members.Add(member);
        }

        var table = new ServiceRoutingTable(metadataKey, instances.Count, RoutingTable<ServiceInstance>.Build(serviceName, members, NewGroup));
        table.ExtendQuarantineHorizon(quarantineHorizon);
        return table;
    }
}
