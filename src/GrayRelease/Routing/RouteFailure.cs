namespace GrayRelease.Routing;

/// <summary>
/// Why a request found no routable target: the service, the request's status, the version it wanted and the versions
/// that exist. Plain data: the load balancer throws it as <see cref="LoadBalancing.NoAvailableInstanceException"/>,
/// the gateway writes it as a 503 problem.
/// </summary>
internal sealed class RouteFailure(string serviceName, GrayStatus? status, string? wantedVersion, IReadOnlyCollection<string> availableVersions)
{
    private string? _message;

    public string ServiceName { get; } = serviceName;

    public GrayStatus? Status { get; } = status;

    public string? WantedVersion { get; } = wantedVersion;

    public IReadOnlyCollection<string> AvailableVersions { get; } = availableVersions;

    public string Message => _message ??= BuildMessage(ServiceName, Status, WantedVersion, AvailableVersions);

    internal static string BuildMessage(string serviceName, GrayStatus? status, string? wantedVersion, IReadOnlyCollection<string> availableVersions)
    {
        var mode = status?.ToString().ToUpperInvariant() ?? "untagged";
        var wanted = wantedVersion ?? "any";
        var available = availableVersions.Count == 0 ? "none" : string.Join(", ", availableVersions);
        var hint = wantedVersion is null
            ? "Check that the service's instances are registered, healthy and enabled."
            : $"Start an instance with version '{wantedVersion}', correct GrayRelease:ProdVersion / GrayVersion (or GrayRelease:Services:{serviceName}), or set GrayRelease:NoInstancePolicy to FallbackToProd or FallbackToAll.";
        return $"No available instance of service '{serviceName}' for mode {mode} (wanted version: {wanted}; available versions: {available}). {hint}";
    }
}
