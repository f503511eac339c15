using GrayRelease.Routing;

namespace GrayRelease.LoadBalancing;

/// <summary>
/// Thrown when a service has no routable instance of the wanted version and <see cref="NoInstancePolicy.Fail"/> applies.
/// The inbound middleware turns it into a 503.
/// </summary>
public sealed class NoAvailableInstanceException : Exception
{
    /// <summary>Creates the exception with a message that names the service, the mode and the versions.</summary>
    public NoAvailableInstanceException(string serviceName, GrayStatus? status, string? wantedVersion, IReadOnlyCollection<string> availableVersions)
        : base(RouteFailure.BuildMessage(serviceName, status, wantedVersion, availableVersions))
    {
        ServiceName = serviceName;
        Status = status;
        WantedVersion = wantedVersion;
        AvailableVersions = availableVersions;
    }

    internal NoAvailableInstanceException(RouteFailure failure)
        : base(failure.Message)
    {
        ServiceName = failure.ServiceName;
        Status = failure.Status;
        WantedVersion = failure.WantedVersion;
        AvailableVersions = failure.AvailableVersions;
    }

    /// <summary>The service that had no matching instance.</summary>
    public string ServiceName { get; }

    /// <summary>The gray status of the call, or <see langword="null"/> for an untagged call.</summary>
    public GrayStatus? Status { get; }

    /// <summary>The version that was wanted, or <see langword="null"/> when any version would do.</summary>
    public string? WantedVersion { get; }

    /// <summary>The versions of the service's routable instances.</summary>
    public IReadOnlyCollection<string> AvailableVersions { get; }
}
