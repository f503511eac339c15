using System.Collections.Frozen;

namespace GrayRelease.Routing;

/// <summary>
/// The routing core shared by the HttpClient load balancer and the YARP gateway: one service's routable targets grouped
/// by version once per registry change, and the rule that turns a request's status into the group it picks from
/// (wanted version, then <see cref="NoInstancePolicy"/>). Both adapters call <see cref="Resolve"/>, so they cannot
/// disagree on where a request goes.
/// </summary>
internal sealed class RoutingTable<T>
    where T : class
{
    private static readonly GrayStatus?[] Statuses = [null, GrayStatus.All, GrayStatus.Prod, GrayStatus.Gray];

    private readonly FrozenDictionary<string, WeightedRotation<T>> _byVersion;
    private readonly WeightedRotation<T> _empty;
    private RouteCache? _routes;

    private RoutingTable(string serviceName, WeightedRotation<T> all, FrozenDictionary<string, WeightedRotation<T>> byVersion, WeightedRotation<T> empty)
    {
        ServiceName = serviceName;
        All = all;
        _byVersion = byVersion;
        _empty = empty;
        AvailableVersions = [.. byVersion.Keys.Where(v => v.Length > 0).Order(StringComparer.Ordinal)];
    }

    /// <summary>The service whose options (per-service versions) apply.</summary>
    public string ServiceName { get; }

    /// <summary>Every routable member, whatever its version.</summary>
    public WeightedRotation<T> All { get; }

    /// <summary>Versions that have at least one routable member, sorted (members without a version are not listed).</summary>
    public IReadOnlyCollection<string> AvailableVersions { get; }

    /// <summary>Builds a table from routable members; <paramref name="newGroup"/> creates each group (the gateway's is a YARP destination list).</summary>
    public static RoutingTable<T> Build(string serviceName, IReadOnlyList<RouteMember<T>> members, Func<RouteMember<T>[], WeightedRotation<T>> newGroup)
    {
        var byVersion = new Dictionary<string, List<RouteMember<T>>>(StringComparer.Ordinal);
        var all = new RouteMember<T>[members.Count];
        for (var i = 0; i < members.Count; i++)
        {
            var member = members[i];
            all[i] = member;
            if (!byVersion.TryGetValue(member.Version, out var list))
            {
                byVersion[member.Version] = list = [];
            }

            list.Add(member);
        }

        var groups = byVersion.ToFrozenDictionary(pair => pair.Key, pair => newGroup([.. pair.Value]), StringComparer.Ordinal);
        return new RoutingTable<T>(serviceName, newGroup(all), groups, newGroup([]));
    }

    public WeightedRotation<T> GetGroup(string version) =>
        _byVersion.TryGetValue(version, out var group) ? group : _empty;

    /// <summary>
    /// Where a request with <paramref name="status"/> goes under <paramref name="options"/>: the wanted version's group,
    /// else the <see cref="NoInstancePolicy"/> fallback; an empty group means no route (see <see cref="Fail"/>).
    /// </summary>
    public Route<T> Resolve(GrayReleaseOptions options, GrayStatus? status)
    {
        var wanted = options.GetWantedVersion(ServiceName, status);
        var group = wanted is null ? All : GetGroup(wanted);
        if (!group.IsEmpty)
        {
            return new Route<T>(group, wanted, FellBack: false);
        }

        var fallback = options.NoInstancePolicy switch
        {
            // PROD with no prod version configured reaches any version (the README's rule), so falling back to "prod"
            // then means any routable member.
            NoInstancePolicy.FallbackToProd => options.GetProdVersion(ServiceName) is { Length: > 0 } prod ? GetGroup(prod) : All,
            NoInstancePolicy.FallbackToAll => All,
            _ => _empty,
        };

        return new Route<T>(fallback, wanted, FellBack: !fallback.IsEmpty);
    }

    /// <summary>
    /// <see cref="Resolve"/> memoised per options instance (a reload creates a new one), so a pick does no version
    /// lookup. Only for options that are replaced, never mutated, on change.
    /// </summary>
    public Route<T> GetRoute(GrayReleaseOptions options, GrayStatus? status)
    {
        var routes = Volatile.Read(ref _routes);
        if (routes is null || !ReferenceEquals(routes.Options, options))
        {
            var resolved = new Route<T>[Statuses.Length];
            for (var i = 0; i < Statuses.Length; i++)
            {
                resolved[i] = Resolve(options, Statuses[i]);
            }

            routes = new RouteCache(options, resolved);
            Volatile.Write(ref _routes, routes);
        }

        return routes.Routes[status is { } known ? (int)known + 1 : 0];
    }

    /// <summary>The description of an empty route, for the error answer.</summary>
    public RouteFailure Fail(GrayStatus? status, in Route<T> route) => new(ServiceName, status, route.WantedVersion, AvailableVersions);

    private sealed record RouteCache(GrayReleaseOptions Options, Route<T>[] Routes);
}

/// <summary>Where requests with one status go: the group to pick from, the version they wanted, and whether that is a fallback.</summary>
internal readonly record struct Route<T>(WeightedRotation<T> Group, string? WantedVersion, bool FellBack)
    where T : class;
