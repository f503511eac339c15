namespace GrayRelease.Routing;

/// <summary>
/// Why a request found no routable target: the service, the request's status and lane, the version it wanted and what
/// exists. Plain data: the load balancer throws it as <see cref="LoadBalancing.NoAvailableInstanceException"/>, the
/// gateway writes it as a 503 problem.
/// </summary>
internal sealed class RouteFailure(
    string serviceName,
    GrayStatus? status,
    string? wantedVersion,
    IReadOnlyCollection<string> availableVersions,
    string? lane = null,
    bool strictLane = false,
    IReadOnlyCollection<string>? availableLanes = null)
{
    private string? _message;

    public string ServiceName { get; } = serviceName;

    public GrayStatus? Status { get; } = status;

    public string? WantedVersion { get; } = wantedVersion;

    public IReadOnlyCollection<string> AvailableVersions { get; } = availableVersions;

    /// <summary>The request's lane, or <see langword="null"/> when it has none.</summary>
    public string? Lane { get; } = lane;

    /// <summary>True when the request's strict lane had no instance (rather than the baseline lacking the wanted version).</summary>
    public bool StrictLane { get; } = strictLane;

    /// <summary>The lanes that have routable instances of the service.</summary>
    public IReadOnlyCollection<string> AvailableLanes { get; } = availableLanes ?? [];

    public string Message => _message ??= StrictLane
        ? BuildStrictLaneMessage(ServiceName, Lane!, AvailableLanes, AvailableVersions)
        : BuildMessage(ServiceName, Status, WantedVersion, AvailableVersions, Lane);

    internal static string BuildMessage(string serviceName, GrayStatus? status, string? wantedVersion, IReadOnlyCollection<string> availableVersions, string? lane = null)
    {
        var mode = status?.ToString().ToUpperInvariant() ?? "untagged";
        var inLane = lane is null ? string.Empty : $" in permissive lane '{lane}' (no instance in the lane, so the baseline)";
        var wanted = wantedVersion ?? "any";
        var available = availableVersions.Count == 0 ? "none" : string.Join(", ", availableVersions);
        var hint = wantedVersion is null
            ? "Check that the service's instances are registered, healthy and enabled."
            : $"Start an instance with version '{wantedVersion}', correct GrayRelease:ProdVersion / GrayVersion (or GrayRelease:Services:{serviceName}), or set GrayRelease:NoInstancePolicy to FallbackToProd or FallbackToAll.";
        return $"No available instance of service '{serviceName}' for mode {mode}{inLane} (wanted version: {wanted}; available versions: {available}). {hint}";
    }

    private static string BuildStrictLaneMessage(string serviceName, string lane, IReadOnlyCollection<string> availableLanes, IReadOnlyCollection<string> baselineVersions)
    {
        var lanes = availableLanes.Count == 0 ? "none" : string.Join(", ", availableLanes);
        var versions = baselineVersions.Count == 0 ? "none" : string.Join(", ", baselineVersions);
        return $"No available instance of service '{serviceName}' in strict lane '{lane}' (lanes with instances: {lanes}; baseline versions: {versions}). "
            + $"Start an instance of '{serviceName}' with GrayRelease:Lane={lane}, or set GrayRelease:Lanes:{lane}:Mode to Permissive so the lane falls back to the baseline.";
    }
}
