using System.Collections.Frozen;
using GrayRelease.Discovery;

namespace GrayRelease.LoadBalancing;

/// <summary>
/// Immutable routing view of one service: routable instances grouped by version, built when the instance list
/// changes and swapped in atomically, so that a pick needs no filtering.
/// </summary>
internal sealed class ServiceRoutingTable
{
    private readonly FrozenDictionary<string, InstanceGroup> _byVersion;
    private RouteCache? _routes;
    private long _quarantineHorizon;

    private ServiceRoutingTable(string serviceName, string metadataKey, int instanceCount, InstanceGroup all, FrozenDictionary<string, InstanceGroup> byVersion)
    {
        ServiceName = serviceName;
        MetadataKey = metadataKey;
        InstanceCount = instanceCount;
        All = all;
        _byVersion = byVersion;
        AvailableVersions = [.. byVersion.Keys.Where(v => v.Length > 0).Order(StringComparer.Ordinal)];
    }

    public string ServiceName { get; }

    public string MetadataKey { get; }

    /// <summary>Every instance the provider reported, routable or not.</summary>
    public int InstanceCount { get; }

    /// <summary>Every routable instance, whatever its version.</summary>
    public InstanceGroup All { get; }

    /// <summary>Versions that have at least one routable instance, sorted.</summary>
    public IReadOnlyCollection<string> AvailableVersions { get; }

    /// <summary>
    /// Timestamp at which the last quarantine of any instance ends, or 0 when none is active; while 0 a pick need
    /// not read the clock.
    /// </summary>
    public long QuarantineHorizon => Volatile.Read(ref _quarantineHorizon);

    public InstanceGroup GetGroup(string version) =>
        _byVersion.TryGetValue(version, out var group) ? group : InstanceGroup.Empty;

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

    /// <summary>
    /// The group a call with <paramref name="status"/> picks from under <paramref name="options"/>, after the
    /// <see cref="NoInstancePolicy"/>. Resolved once per options instance (a reload creates a new one), so the per-call
    /// path does no version lookup.
    /// </summary>
    public Route GetRoute(GrayReleaseOptions options, GrayStatus? status)
    {
        var routes = Volatile.Read(ref _routes);
        if (routes is null || !ReferenceEquals(routes.Options, options))
        {
            routes = new RouteCache(options, BuildRoutes(options));
            Volatile.Write(ref _routes, routes);
        }

        return routes.Routes[status is { } known ? (int)known + 1 : 0];
    }

    private Route[] BuildRoutes(GrayReleaseOptions options)
    {
        ReadOnlySpan<GrayStatus?> statuses = [null, GrayStatus.All, GrayStatus.Prod, GrayStatus.Gray];
        var routes = new Route[statuses.Length];
        for (var i = 0; i < statuses.Length; i++)
        {
            var wanted = options.GetWantedVersion(ServiceName, statuses[i]);
            var group = wanted is null ? All : GetGroup(wanted);
            if (group.IsEmpty)
            {
                group = options.NoInstancePolicy switch
                {
                    // PROD with no prod version configured reaches any version (the README's rule), so falling back to
                    // "prod" then means any routable instance: the same on the gateway (VersionFilter) and here.
                    NoInstancePolicy.FallbackToProd => options.GetProdVersion(ServiceName) is { Length: > 0 } prod ? GetGroup(prod) : All,
                    NoInstancePolicy.FallbackToAll => All,
                    _ => InstanceGroup.Empty,
                };
            }

            routes[i] = new Route(group, wanted);
        }

        return routes;
    }

    /// <summary>Builds a table, carrying the passive-health state of instances that were already known.</summary>
    public static ServiceRoutingTable Build(string serviceName, IReadOnlyList<ServiceInstance> instances, string metadataKey, ServiceRoutingTable? previous)
    {
        Dictionary<string, RoutableInstance>? previousByAddress = null;
        if (previous is not null && previous.MetadataKey == metadataKey)
        {
            previousByAddress = new Dictionary<string, RoutableInstance>(StringComparer.OrdinalIgnoreCase);
            foreach (var known in previous.All.Instances)
            {
                previousByAddress.TryAdd(known.Instance.Address, known);
            }
        }

        var quarantineHorizon = 0L;
        var all = new List<RoutableInstance>(instances.Count);
        var byVersion = new Dictionary<string, List<RoutableInstance>>(StringComparer.Ordinal);
        foreach (var instance in instances)
        {
            if (!instance.IsRoutable)
            {
                continue;
            }

            var version = instance.GetMetadata(metadataKey) ?? string.Empty;
            var routable = new RoutableInstance(instance, version);
            if (previousByAddress is not null && previousByAddress.TryGetValue(instance.Address, out var known))
            {
                routable.QuarantineUntil(known.QuarantinedUntil);
                quarantineHorizon = Math.Max(quarantineHorizon, known.QuarantinedUntil);
            }

            all.Add(routable);
            if (!byVersion.TryGetValue(version, out var list))
            {
                byVersion[version] = list = [];
            }

            list.Add(routable);
        }

        var groups = byVersion.ToFrozenDictionary(pair => pair.Key, pair => new InstanceGroup([.. pair.Value]), StringComparer.Ordinal);
        var table = new ServiceRoutingTable(serviceName, metadataKey, instances.Count, new InstanceGroup([.. all]), groups);
        table.ExtendQuarantineHorizon(quarantineHorizon);

        return table;
    }
}

/// <summary>Where calls with one gray status go: the group to pick from and the version they wanted.</summary>
internal readonly record struct Route(InstanceGroup Group, string? WantedVersion);

internal sealed record RouteCache(GrayReleaseOptions Options, Route[] Routes);
