namespace GrayRelease.LoadBalancing;

/// <summary>
/// Thrown when a service has no routable instance of the wanted version and <see cref="NoInstancePolicy.Fail"/> applies.
/// The inbound middleware turns it into a 503.
/// </summary>
public sealed class NoAvailableInstanceException : Exception
{
    /// <summary>Creates the exception with a message that names the service, the mode and the versions.</summary>
    public NoAvailableInstanceException(string serviceName, GrayStatus? status, string? wantedVersion, IReadOnlyCollection<string> availableVersions)
        : base(BuildMessage(serviceName, status, wantedVersion, availableVersions))
    {
        ServiceName = serviceName;
        Status = status;
        WantedVersion = wantedVersion;
        AvailableVersions = availableVersions;
    }

    /// <summary>The service that had no matching instance.</summary>
    public string ServiceName { get; }

    /// <summary>The gray status of the call, or <see langword="null"/> for an untagged call.</summary>
    public GrayStatus? Status { get; }

    /// <summary>The version that was wanted, or <see langword="null"/> when any version would do.</summary>
    public string? WantedVersion { get; }

    /// <summary>The versions of the service's routable instances.</summary>
    public IReadOnlyCollection<string> AvailableVersions { get; }

    private static string BuildMessage(string serviceName, GrayStatus? status, string? wantedVersion, IReadOnlyCollection<string> availableVersions)
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
