using System.Text.Json;
using System.Text.Json.Serialization;

namespace GrayRelease.Rollouts;

/// <summary>What <c>GET {prefix}/api/status</c> answers: everything the operations page shows.</summary>
internal sealed record DashboardStatus(
    DateTimeOffset Now,
    string? ProdVersion,
    string? GrayVersion,
    bool GatewayEnabled,
    IReadOnlyList<DashboardRule> Rules,
    IReadOnlyList<DashboardService> Services,
    DashboardTraffic Traffic,
    RolloutSnapshot? Rollout);

/// <summary>One active rule: <see cref="Lane"/> is "gray" for the gray rules, else the lane's name (its entry rules).</summary>
internal sealed record DashboardRule(string Lane, int Priority, string Kind, string Value);

internal sealed record DashboardService(string Name, string Cluster, IReadOnlyList<DashboardInstance> Instances);

/// <summary>One destination as the gateway routes to it (registry-fed or configured).</summary>
internal sealed record DashboardInstance(string Id, string Address, string Version, string Lane, string Health, double Weight);

/// <summary>Per service and version over the last <see cref="WindowSeconds"/> seconds, lanes merged; <see cref="DashboardVersionTraffic.Points"/> are <see cref="BucketSeconds"/>-second buckets, oldest first.</summary>
internal sealed record DashboardTraffic(int WindowSeconds, int BucketSeconds, IReadOnlyList<DashboardVersionTraffic> Versions);

internal sealed record DashboardVersionTraffic(string Service, string Version, long Requests, long Errors, double Share, double ErrorRate, IReadOnlyList<DashboardPoint> Points);

internal sealed record DashboardPoint(long Requests, long Errors);

/// <summary>The anti-forgery request token the page sends back in the header <see cref="Header"/>.</summary>
internal sealed record DashboardToken(string Header, string Token);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(DashboardStatus))]
[JsonSerializable(typeof(DashboardToken))]
internal sealed partial class DashboardJsonContext : JsonSerializerContext;
