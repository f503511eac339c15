using System.Collections.Frozen;

namespace GrayRelease.Discovery;

/// <summary>
/// One running instance of a service, as a registry (or configuration) reports it.
/// Immutable: providers publish a new list when anything changes.
/// </summary>
public sealed class ServiceInstance
{
    private static readonly IReadOnlyDictionary<string, string> EmptyMetadata =
        FrozenDictionary<string, string>.Empty;

    private string? _address;

    /// <summary>The logical service name callers use as the host, e.g. <c>user-app</c>.</summary>
    public required string ServiceName { get; init; }

    /// <summary>Host name or IP address the instance listens on.</summary>
    public required string Host { get; init; }

    /// <summary>TCP port the instance listens on.</summary>
    public required int Port { get; init; }

    /// <summary>URI scheme used to reach the instance (<c>http</c> or <c>https</c>).</summary>
    public string Scheme { get; init; } = "http";

    /// <summary>Relative weight for load balancing; 0 or less means "never pick".</summary>
    public double Weight { get; init; } = 1;

    /// <summary>Whether the registry considers the instance healthy.</summary>
    public bool Healthy { get; init; } = true;

    /// <summary>Whether the instance accepts traffic (an operator can disable it without removing it).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Registry identifier of the instance, when the registry has one.</summary>
    public string? InstanceId { get; init; }

    /// <summary>Instance metadata; the gray version lives under <see cref="GrayReleaseOptions.MetadataKey"/> (default <c>version</c>).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = EmptyMetadata;

    /// <summary>Base address, e.g. <c>http://10.0.0.5:7201</c>; IPv6 hosts are bracketed.</summary>
    public string Address => _address ??= BuildAddress();

    /// <summary>Whether the instance may receive traffic at all: healthy, enabled and with a positive weight.</summary>
    public bool IsRoutable => Healthy && Enabled && Weight > 0 && double.IsFinite(Weight);

    /// <summary>Returns the metadata value for <paramref name="key"/>, or <see langword="null"/>.</summary>
    public string? GetMetadata(string key) => Metadata.TryGetValue(key, out var value) ? value : null;

    /// <inheritdoc />
    public override string ToString() => $"{ServiceName}@{Address}";

    private string BuildAddress()
    {
        var host = Host.Contains(':', StringComparison.Ordinal) && !Host.StartsWith('[') ? $"[{Host}]" : Host;
        return $"{Scheme}://{host}:{Port}";
    }
}
