using System.Collections.Frozen;

namespace GrayRelease.Routing;

/// <summary>
/// The routing core shared by the HttpClient load balancer and the YARP gateway: one service's routable targets grouped
/// by (lane, version) once per registry change, and the rule that turns a request's (status, lane) into the group it
/// picks from. Both adapters call <see cref="Resolve"/>, so they cannot disagree on where a request goes.
/// </summary>
internal sealed class RoutingTable<T>
    where T : class
{
    private static readonly GrayStatus?[] Statuses = [null, GrayStatus.All, GrayStatus.Prod, GrayStatus.Gray];

    private readonly Func<RouteMember<T>[], WeightedRotation<T>> _newGroup;
    private readonly Partition _baseline;
    private readonly FrozenDictionary<string, Partition> _lanes;
    private readonly WeightedRotation<T> _empty;
    private RouteCache? _routes;
    private BaselineView? _servedBaseline;

    private RoutingTable(string serviceName, WeightedRotation<T> all, Partition baseline, FrozenDictionary<string, Partition> lanes, Func<RouteMember<T>[], WeightedRotation<T>> newGroup)
    {
        ServiceName = serviceName;
        All = all;
        _baseline = baseline;
        _lanes = lanes;
        _newGroup = newGroup;
        _empty = newGroup([]);
        AvailableLanes = [.. lanes.Keys.Order(StringComparer.Ordinal)];
    }

    /// <summary>The service whose options (per-service versions, lanes) apply.</summary>
    public string ServiceName { get; }

    /// <summary>Every routable member, whatever its lane and version.</summary>
    public WeightedRotation<T> All { get; }

    /// <summary>Versions of the baseline that have at least one routable member, sorted (members without a version are not listed).</summary>
    public IReadOnlyCollection<string> AvailableVersions => _baseline.Versions;

    /// <summary>Lanes that have at least one routable member, sorted.</summary>
    public IReadOnlyCollection<string> AvailableLanes { get; }

    /// <summary>Builds a table from routable members; <paramref name="newGroup"/> creates each group (the gateway's is a YARP destination list).</summary>
    public static RoutingTable<T> Build(string serviceName, IReadOnlyList<RouteMember<T>> members, Func<RouteMember<T>[], WeightedRotation<T>> newGroup)
    {
        var baseline = new List<RouteMember<T>>(members.Count);
        var byLane = new Dictionary<string, List<RouteMember<T>>>(StringComparer.Ordinal);
        var all = new RouteMember<T>[members.Count];
        for (var i = 0; i < members.Count; i++)
        {
            var member = members[i];
            all[i] = member;
            if (member.Lane.Length == 0)
            {
                baseline.Add(member);
            }
            else
            {
                if (!byLane.TryGetValue(member.Lane, out var list))
                {
                    byLane[member.Lane] = list = [];
                }

                list.Add(member);
            }
        }

        foreach (var lane in byLane.Keys)
        {
            // Lanes found in the registry get their key now, so a request's lane can be matched to them by index.
            LaneRegistry.Intern(lane);
        }

        var lanes = byLane.ToFrozenDictionary(pair => pair.Key, pair => Partition.Build([.. pair.Value], newGroup), StringComparer.Ordinal);
        return new RoutingTable<T>(serviceName, newGroup(all), Partition.Build([.. baseline], newGroup), lanes, newGroup);
    }

    /// <summary>
    /// Where a request with <paramref name="status"/> in <paramref name="lane"/> (null or empty: none) goes under
    /// <paramref name="options"/>: the lane's members if it has any here; else, by the lane's mode, nothing (strict) or the
    /// baseline by status, the wanted version's group then the <see cref="NoInstancePolicy"/> fallback. An empty group
    /// means no route (see <see cref="Fail"/>).
    /// </summary>
    public Route<T> Resolve(GrayReleaseOptions options, GrayStatus? status, string? lane = null)
    {
        if (!options.Enabled)
        {
            // Switched off: versions and lanes are ignored, every routable member serves every request.
            return new Route<T>(All, null, FellBack: false, null);
        }

        if (string.IsNullOrEmpty(lane))
        {
            return ResolveIn(GetServedBaseline(options), options, status);
        }

        if (_lanes.TryGetValue(lane, out var inLane))
        {
            return new Route<T>(inLane.All, null, FellBack: false, lane);
        }

        return options.GetLaneMode(lane) == LaneMode.Strict
            ? new Route<T>(_empty, null, FellBack: false, lane)
            : ResolveIn(_baseline, options, status);
    }

    private Route<T> ResolveIn(Partition baseline, GrayReleaseOptions options, GrayStatus? status)
    {
        var wanted = options.GetWantedVersion(ServiceName, status);
        var group = wanted is null ? baseline.All : baseline.GetGroup(wanted, _empty);
        if (!group.IsEmpty)
        {
            return new Route<T>(group, wanted, FellBack: false, null);
        }

        var fallback = options.NoInstancePolicy switch
        {
            // PROD with no prod version configured reaches any version (the README's rule), so falling back to "prod"
            // then means any routable baseline member.
            NoInstancePolicy.FallbackToProd => options.GetProdVersion(ServiceName) is { Length: > 0 } prod ? baseline.GetGroup(prod, _empty) : baseline.All,
            NoInstancePolicy.FallbackToAll => baseline.All,
            _ => _empty,
        };

        return new Route<T>(fallback, wanted, FellBack: !fallback.IsEmpty, null);
    }

    /// <summary>
    /// <see cref="Resolve"/> memoised per options instance (a reload creates a new one), so a pick does at most one
    /// lane lookup, whatever the number of lanes and members. Only for options that are replaced, never mutated, on change.
    /// </summary>
    public Route<T> GetRoute(GrayReleaseOptions options, GrayStatus? status, string? lane = null) =>
        GetRoute(options, status, null, lane);

    /// <summary>
    /// <see cref="GetRoute(GrayReleaseOptions, GrayStatus?, string?)"/> with the request's lane already interned
    /// (<paramref name="laneKey"/>, from its <see cref="GrayContext"/>): the lane's routes are then an array read, so the
    /// cost does not depend on the number of lanes nor on the length of their names.
    /// </summary>
    public Route<T> GetRoute(GrayReleaseOptions options, GrayStatus? status, LaneKey? laneKey, string? lane)
    {
        var routes = Volatile.Read(ref _routes);
        if (routes is null || !ReferenceEquals(routes.Options, options))
        {
            routes = BuildRoutes(options);
            Volatile.Write(ref _routes, routes);
        }

        var index = status is { } known ? (int)known + 1 : 0;
        if (string.IsNullOrEmpty(lane))
        {
            return routes.Untagged[index];
        }

        // A lane the request's context did not know when it began may have been interned since (an instance registered).
        laneKey ??= LaneRegistry.Find(lane);
        var byIndex = routes.ByLaneIndex;
        if (laneKey is not null && (uint)laneKey.Index < (uint)byIndex.Length)
        {
            if (byIndex[laneKey.Index] is { } laneRoutes)
            {
                return laneRoutes[index];
            }
        }
        else if (routes.Overflow is { } overflow && overflow.TryGetValue(lane, out var overflowRoutes))
        {
            return overflowRoutes[index];
        }

        // A lane neither present here nor configured is permissive: the baseline, as for a request without a lane
        // (but without the lanes that serve baseline traffic).
        return routes.Baseline[index];
    }

    /// <summary>The description of an empty route for a request with <paramref name="status"/> in <paramref name="lane"/>, for the error answer.</summary>
    public RouteFailure Fail(GrayStatus? status, string? lane, in Route<T> route) =>
        new(ServiceName, status, route.WantedVersion, AvailableVersions, string.IsNullOrEmpty(lane) ? null : lane, route.Lane is not null, AvailableLanes);

    private RouteCache BuildRoutes(GrayReleaseOptions options)
    {
        var untagged = new Route<T>[Statuses.Length];
        var baseline = new Route<T>[Statuses.Length];
        for (var i = 0; i < Statuses.Length; i++)
        {
            untagged[i] = Resolve(options, Statuses[i]);
            baseline[i] = options.Enabled ? ResolveIn(_baseline, options, Statuses[i]) : untagged[i];
        }

        var byLane = new Dictionary<string, Route<T>[]>(StringComparer.Ordinal);
        foreach (var lane in _lanes.Keys.Concat(options.Lanes.Keys))
        {
            if (lane.Length == 0 || byLane.ContainsKey(lane))
            {
                continue;
            }

            var routes = new Route<T>[Statuses.Length];
            for (var i = 0; i < Statuses.Length; i++)
            {
                routes[i] = Resolve(options, Statuses[i], lane);
            }

            byLane[lane] = routes;
        }

        // Indexed by lane key: a pick reads one array slot instead of hashing the lane's name (measured 27-36 ns with a
        // Dictionary at 5 and 20 lanes). Slots of lanes unknown to this service stay null, which means the baseline.
        var keyed = new List<(LaneKey Key, Route<T>[] Routes)>(byLane.Count);
        Dictionary<string, Route<T>[]>? overflow = null;
        var length = 0;
        foreach (var (lane, routes) in byLane)
        {
            if (LaneRegistry.Intern(lane) is { } key)
            {
                keyed.Add((key, routes));
                length = Math.Max(length, key.Index + 1);
            }
            else
            {
                (overflow ??= new Dictionary<string, Route<T>[]>(StringComparer.Ordinal))[lane] = routes;
            }
        }

        var byIndex = new Route<T>[]?[length];
        foreach (var (key, routes) in keyed)
        {
            byIndex[key.Index] = routes;
        }

        return new RouteCache(options, untagged, baseline, byIndex, overflow);
    }

    private Partition GetServedBaseline(GrayReleaseOptions options)
    {
        var view = Volatile.Read(ref _servedBaseline);
        if (view is not null && ReferenceEquals(view.Options, options))
        {
            return view.Baseline;
        }

        List<RouteMember<T>>? served = null;
        foreach (var (lane, partition) in _lanes)
        {
            if (options.Lanes.TryGetValue(lane, out var settings) && settings.ServeBaselineTraffic)
            {
                served ??= [.. _baseline.All.Instances];
                served.AddRange(partition.All.Instances);
            }
        }

        var baseline = served is null ? _baseline : Partition.Build([.. served], _newGroup);
        Volatile.Write(ref _servedBaseline, new BaselineView(options, baseline));
        return baseline;
    }

    /// <summary>The members of one lane (or of the baseline), all and by version.</summary>
    private sealed class Partition(WeightedRotation<T> all, FrozenDictionary<string, WeightedRotation<T>> byVersion)
    {
        public WeightedRotation<T> All { get; } = all;

        public string[] Versions { get; } = [.. byVersion.Keys.Where(v => v.Length > 0).Order(StringComparer.Ordinal)];

        public WeightedRotation<T> GetGroup(string version, WeightedRotation<T> empty) =>
            byVersion.TryGetValue(version, out var group) ? group : empty;

        public static Partition Build(RouteMember<T>[] members, Func<RouteMember<T>[], WeightedRotation<T>> newGroup)
        {
            var byVersion = new Dictionary<string, List<RouteMember<T>>>(StringComparer.Ordinal);
            foreach (var member in members)
            {
                if (!byVersion.TryGetValue(member.Version, out var list))
                {
                    byVersion[member.Version] = list = [];
                }

                list.Add(member);
            }

            return new Partition(newGroup(members), byVersion.ToFrozenDictionary(pair => pair.Key, pair => newGroup([.. pair.Value]), StringComparer.Ordinal));
        }
    }

    private sealed record RouteCache(GrayReleaseOptions Options, Route<T>[] Untagged, Route<T>[] Baseline, Route<T>[]?[] ByLaneIndex, Dictionary<string, Route<T>[]>? Overflow);

    private sealed record BaselineView(GrayReleaseOptions Options, Partition Baseline);
}

/// <summary>Where requests with one (status, lane) go: the group to pick from, the version they wanted, whether that is a fallback, and the lane the group belongs to (null: the baseline).</summary>
internal readonly record struct Route<T>(WeightedRotation<T> Group, string? WantedVersion, bool FellBack, string? Lane)
    where T : class;
