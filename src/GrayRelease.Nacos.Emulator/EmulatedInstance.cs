namespace GrayRelease.Nacos.Emulator;

/// <summary>A snapshot of one instance registered with the emulator, as the server sees it.</summary>
public sealed class EmulatedInstance
{
    /// <summary>The Nacos instance id, <c>ip#port#cluster#group@@service</c>.</summary>
    public required string InstanceId { get; init; }

    /// <summary>The registered IP address.</summary>
    public required string Ip { get; init; }

    /// <summary>The registered port.</summary>
    public required int Port { get; init; }

    /// <summary>The load-balancing weight (0 to 10000).</summary>
    public double Weight { get; init; } = 1;

    /// <summary>Whether the instance is healthy (ephemeral ones turn unhealthy when their beats stop).</summary>
    public bool Healthy { get; init; } = true;

    /// <summary>Whether the instance is enabled; disabled ones are left out of list answers.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Whether the instance lives by heartbeats (true) or until deregistered (false).</summary>
    public bool Ephemeral { get; init; } = true;

    /// <summary>The cluster name (<c>DEFAULT</c> unless given).</summary>
    public string ClusterName { get; init; } = "DEFAULT";

    /// <summary>The grouped service name, <c>group@@service</c>.</summary>
    public required string ServiceName { get; init; }

    /// <summary>The instance metadata (for example <c>version</c>).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>When the last beat (or the registration) arrived, on the emulator's clock.</summary>
    public DateTimeOffset LastBeat { get; init; }
}
