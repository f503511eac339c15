namespace GrayRelease;

/// <summary>
/// Options of the gray-release core, bound from the <c>GrayRelease</c> configuration section and read through
/// <c>IOptionsMonitor</c>, so a configuration change applies to the next request.
/// </summary>
public sealed class GrayReleaseOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "GrayRelease";

    /// <summary>When false, the load balancer ignores versions (every call behaves as <see cref="GrayStatus.All"/>); tags still propagate.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Name of the HTTP header that carries the gray status between services.</summary>
    public string HeaderName { get; set; } = "gray";

    /// <summary>Instance metadata key that holds an instance's version.</summary>
    public string MetadataKey { get; set; } = "version";

    /// <summary>This instance's own version (published to the registry, and used for untagged calls).</summary>
    public string? Version { get; set; }

    /// <summary>Default production version of every service.</summary>
    public string? ProdVersion { get; set; }

    /// <summary>Default gray version of every service.</summary>
    public string? GrayVersion { get; set; }

    /// <summary>Instance metadata key that names an instance's lane; an instance without it belongs to the baseline.</summary>
    public string LaneMetadataKey { get; set; } = "lane";

    /// <summary>This instance's own lane (published to the registry under <see cref="LaneMetadataKey"/>); none = the baseline.</summary>
    public string? Lane { get; set; }

    /// <summary>Name of the HTTP header that carries a request's lane between services, beside <see cref="HeaderName"/>.</summary>
    public string LaneHeaderName { get; set; } = "gray-lane";

    /// <summary>How the status and lane travel: <see cref="GrayPropagation.Header"/> (the default), W3C baggage, or both.</summary>
    public GrayPropagation Propagation { get; set; } = GrayPropagation.Header;

    /// <summary>Key of the W3C baggage member that carries the gray status, when <see cref="Propagation"/> uses baggage.</summary>
    public string BaggageStatusKey { get; set; } = "gray.status";

    /// <summary>Key of the W3C baggage member that carries the lane, when <see cref="Propagation"/> uses baggage.</summary>
    public string BaggageLaneKey { get; set; } = "gray.lane";

    /// <summary>Settings per lane, keyed by lane name; a lane not listed here is <see cref="LaneMode.Permissive"/>.</summary>
    public Dictionary<string, GrayLaneOptions> Lanes { get; } = new(StringComparer.Ordinal);

    /// <summary>Per-service overrides of <see cref="ProdVersion"/> and <see cref="GrayVersion"/>, keyed by service name.</summary>
    public Dictionary<string, GrayServiceOptions> Services { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>What happens when no instance of the wanted version is available.</summary>
    public NoInstancePolicy NoInstancePolicy { get; set; } = NoInstancePolicy.Fail;

    /// <summary>Where calls go when the current request carries no gray tag.</summary>
    public UntaggedRequestPolicy UntaggedRequests { get; set; } = UntaggedRequestPolicy.CallerVersion;

    /// <summary>How long an instance that refused a connection is skipped by the load balancer (passive health check; 0 turns it off).</summary>
    public TimeSpan FailedInstanceQuarantine { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The default of <see cref="MaxUnknownServices"/>.</summary>
    internal const int DefaultMaxUnknownServices = 1000;

    /// <summary>The default of <see cref="MaxMetricTagValues"/>.</summary>
    internal const int DefaultMaxMetricTagValues = 1000;

    /// <summary>
    /// At most this many host names the instance provider does not know are remembered by the load balancer (for a few
    /// seconds each, so they are not looked up on every call); beyond it a name is looked up on every call. Any host name
    /// sent through a gray-aware client counts, so this bounds what callers' URLs can make the process keep.
    /// </summary>
    public int MaxUnknownServices { get; set; } = DefaultMaxUnknownServices;

    /// <summary>
    /// At most this many distinct values of each metric tag that carries a name (<c>service</c>, <c>version</c>); later
    /// values are counted as <c>(other)</c>. Read at start-up.
    /// </summary>
    public int MaxMetricTagValues { get; set; } = DefaultMaxMetricTagValues;

    /// <summary>The default of <see cref="IdleServiceTimeout"/>.</summary>
    internal static readonly TimeSpan DefaultIdleServiceTimeout = TimeSpan.FromMinutes(30);

    /// <summary>
    /// A service the load balancer has not picked for this long is forgotten: its routing table is dropped and the
    /// registry provider stops keeping it fresh (poll loop, subscription); the next call looks it up again. Services a
    /// gateway or gRPC channel resolves are never forgotten. <see cref="TimeSpan.Zero"/> or
    /// <see cref="Timeout.InfiniteTimeSpan"/>: never.
    /// </summary>
    public TimeSpan IdleServiceTimeout { get; set; } = DefaultIdleServiceTimeout;

    /// <summary>Instances per service for runs without a registry (<c>GrayRelease:Instances:&lt;service&gt;</c>).</summary>
    public Dictionary<string, List<ConfiguredInstanceOptions>> Instances { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The production version of <paramref name="serviceName"/>: its override, else <see cref="ProdVersion"/>.</summary>
    public string? GetProdVersion(string serviceName) =>
        Services.TryGetValue(serviceName, out var service) && !string.IsNullOrEmpty(service.ProdVersion) ? service.ProdVersion : ProdVersion;

    /// <summary>The gray version of <paramref name="serviceName"/>: its override, else <see cref="GrayVersion"/>.</summary>
    public string? GetGrayVersion(string serviceName) =>
        Services.TryGetValue(serviceName, out var service) && !string.IsNullOrEmpty(service.GrayVersion) ? service.GrayVersion : GrayVersion;

    /// <summary>
    /// The version a call to <paramref name="serviceName"/> must reach for <paramref name="status"/>
    /// (<see langword="null"/> for an untagged call), or <see langword="null"/> when any version will do.
    /// </summary>
    /// <remarks>
    /// GRAY wants the service's gray version; a service with no gray version configured is not part of the gray
    /// release, so GRAY then wants its production version. PROD wants the production version; when none is configured,
    /// any version. Untagged calls follow <see cref="UntaggedRequests"/>. With <see cref="Enabled"/> off, any version.
    /// </remarks>
    public string? GetWantedVersion(string serviceName, GrayStatus? status)
    {
        if (!Enabled)
        {
            return null;
        }

        return status switch
        {
            GrayStatus.All => null,
            GrayStatus.Prod => NullIfEmpty(GetProdVersion(serviceName)),
            GrayStatus.Gray => NullIfEmpty(GetGrayVersion(serviceName)) ?? NullIfEmpty(GetProdVersion(serviceName)),
            _ => UntaggedRequests switch
            {
                UntaggedRequestPolicy.CallerVersion => NullIfEmpty(Version),
                UntaggedRequestPolicy.Prod => NullIfEmpty(GetProdVersion(serviceName)),
                _ => null,
            },
        };
    }

    /// <summary>The mode of <paramref name="lane"/>: its setting, else <see cref="LaneMode.Permissive"/>.</summary>
    public LaneMode GetLaneMode(string lane) =>
        Lanes.TryGetValue(lane, out var options) ? options.Mode : LaneMode.Permissive;

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
