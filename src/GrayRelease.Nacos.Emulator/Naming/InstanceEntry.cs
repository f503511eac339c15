namespace GrayRelease.Nacos.Emulator.Naming;

/// <summary>The mutable state of one registered instance; only touched under the store's lock.</summary>
internal sealed class InstanceEntry
{
    public required string Ip { get; init; }

    public required int Port { get; init; }

    public double Weight { get; set; } = 1;

    public bool Healthy { get; set; } = true;

    public bool Enabled { get; set; } = true;

    public bool Ephemeral { get; set; } = true;

    public string ClusterName { get; set; } = InstanceRegistration.DefaultCluster;

    public IReadOnlyDictionary<string, string> Metadata { get; set; } = InstanceRegistration.EmptyMetadata;

    public DateTimeOffset LastBeat { get; set; }

    /// <summary>The gRPC connection that published it (no beats, removed with the connection); null for HTTP.</summary>
    public string? Owner { get; set; }

    /// <summary>Insertion order, so list answers keep hosts in a stable order.</summary>
    public long Sequence { get; init; }

    public EmulatedInstance ToSnapshot(ServiceKey key) => new()
    {
        InstanceId = Ip + "#" + Port.ToString(System.Globalization.CultureInfo.InvariantCulture) + "#" + ClusterName + "#" + key.GroupedName,
        Ip = Ip,
        Port = Port,
        Weight = Weight,
        Healthy = Healthy,
        Enabled = Enabled,
        Ephemeral = Ephemeral,
        ClusterName = ClusterName,
        ServiceName = key.GroupedName,
        Metadata = Metadata,
        LastBeat = LastBeat,
    };
}
