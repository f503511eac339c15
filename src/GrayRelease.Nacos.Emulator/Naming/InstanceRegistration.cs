namespace GrayRelease.Nacos.Emulator.Naming;

/// <summary>What a register call (or a full beat of an unknown instance) asks for.</summary>
internal sealed class InstanceRegistration
{
    public const string DefaultCluster = "DEFAULT";

    public static readonly IReadOnlyDictionary<string, string> EmptyMetadata = new Dictionary<string, string>();

    public required string Ip { get; init; }

    public required int Port { get; init; }

    public double Weight { get; init; } = 1;

    public bool Healthy { get; init; } = true;

    public bool Enabled { get; init; } = true;

    public bool Ephemeral { get; init; } = true;

    public string ClusterName { get; init; } = DefaultCluster;

    public IReadOnlyDictionary<string, string> Metadata { get; init; } = EmptyMetadata;

    /// <summary>The gRPC connection id that owns the instance; null for HTTP registrations.</summary>
    public string? Owner { get; init; }
}
