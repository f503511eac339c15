namespace GrayRelease.Nacos;

/// <summary>
/// Options of the Nacos integration, bound from the <c>nacos</c> configuration section with the key names that
/// Nacos.AspNetCore users already have. See <c>docs/nacos.md</c> for which keys are honoured.
/// </summary>
public sealed class NacosOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "nacos";

    /// <summary>Absolute addresses of the Nacos servers, e.g. <c>http://10.0.0.2:8848</c>; tried in turn on failure.</summary>
    public List<string> ServerAddresses { get; set; } = [];

    /// <summary>Namespace id; empty means the default namespace (<c>public</c>).</summary>
    public string? Namespace { get; set; }

    /// <summary>Name this application registers under; defaults to the application name.</summary>
    public string? ServiceName { get; set; }

    /// <summary>Group of the registered service and of the services looked up.</summary>
    public string GroupName { get; set; } = "DEFAULT_GROUP";

    /// <summary>Cluster this instance registers in.</summary>
    public string ClusterName { get; set; } = "DEFAULT";

    /// <summary>IP address to register instead of the one derived from the bound address.</summary>
    public string? Ip { get; set; }

    /// <summary>Port to register instead of the bound one (0 = the bound port).</summary>
    public int Port { get; set; }

    /// <summary>
    /// Port of this instance's gRPC endpoint (not the Nacos server's: that is <see cref="GrpcPort"/>), published in the instance metadata under <see cref="GrpcPortMetadataKey"/>
    /// so one registration serves REST and gRPC (0 = none, or the bound port of the Kestrel endpoint marked with
    /// <c>ListenOptions.PublishAsNacosGrpcPort()</c>). A bound address on this port is never the registered port.
    /// </summary>
    public int InstanceGrpcPort { get; set; }

    /// <summary>The metadata key of <see cref="InstanceGrpcPort"/>: <c>gRPC_port</c>, as Spring's gRPC starter (grpc-spring) publishes and reads it.</summary>
    public string GrpcPortMetadataKey { get; set; } = "gRPC_port";

    /// <summary>Comma-separated address prefixes (e.g. <c>10.0.,192.168.</c>) preferred when choosing the address to register.</summary>
    public string? PreferredNetworks { get; set; }

    /// <summary>Load-balancing weight of this instance.</summary>
    public double Weight { get; set; } = 1;

    /// <summary>Extra metadata of this instance (the gray version is added from <c>GrayRelease:Version</c>).</summary>
    public Dictionary<string, string> Metadata { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Whether this application registers itself.</summary>
    public bool RegisterEnabled { get; set; } = true;

    /// <summary>Whether the registered instance accepts traffic.</summary>
    public bool InstanceEnabled { get; set; } = true;

    /// <summary>Whether the instance is ephemeral (kept alive by heartbeats) rather than persistent.</summary>
    public bool Ephemeral { get; set; } = true;

    /// <summary>Whether this instance serves HTTPS (published as metadata <c>secure=true</c>).</summary>
    public bool Secure { get; set; }

    /// <summary>User name for Nacos auth; empty when auth is off.</summary>
    public string? UserName { get; set; }

    /// <summary>Password for Nacos auth. Never logged.</summary>
    public string? Password { get; set; }

    /// <summary>
    /// Port of the Nacos gRPC client API on every server; 0 (default) = each server's HTTP port + 1000 (8848 → 9848),
    /// as the official clients derive it.
    /// </summary>
    public int GrpcPort { get; set; }

    /// <summary>
    /// TLS on the gRPC port (a server with <c>nacos.remote.server.rpc.tls.enableTls=true</c>); also on for a server given
    /// with an <c>https://</c> address. The server certificate is checked against the machine's trusted roots.
    /// </summary>
    public bool GrpcTls { get; set; }

    /// <summary>Client protocol: <see cref="NacosTransport.Auto"/> (default), <see cref="NacosTransport.Grpc"/> or <see cref="NacosTransport.Http"/>.</summary>
    public NacosTransport Transport { get; set; } = NacosTransport.Auto;

    /// <summary>Timeout of one call to Nacos, in milliseconds.</summary>
    public int DefaultTimeOut { get; set; } = 15000;

    /// <summary>Initial pause, in milliseconds, before retrying a failed configuration long poll (doubles up to 30 s).</summary>
    public int ListenInterval { get; set; } = 1000;

    /// <summary>
    /// Poll period over the Nacos 3.x v3 client HTTP API (used when the v1 Open API is gone and gRPC is not reachable),
    /// which has neither push nor long polling: instance lists and configurations are read again this often.
    /// </summary>
    public TimeSpan V3PollInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Configurations (dataIds) loaded into <c>IConfiguration</c> and watched for changes.</summary>
    public List<NacosListenerOptions> Listeners { get; set; } = [];

    /// <summary>Not supported: we speak the HTTP Open API only. True only produces a start-up warning.</summary>
    public bool NamingUseRpc { get; set; }

    /// <summary>Nacos.AspNetCore's switch: true = the configuration source speaks gRPC only (as <c>nacos:Transport = Grpc</c>) while <see cref="Transport"/> is Auto.</summary>
    public bool ConfigUseRpc { get; set; }

    /// <summary>Time between deregistering on shutdown and letting the web server stop, so callers' caches catch up.</summary>
    public TimeSpan DrainDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>When true (default), an empty instance list from Nacos does not wipe a non-empty cached list.</summary>
    public bool PushEmptyProtection { get; set; } = true;

    /// <summary>
    /// Folder of the on-disk snapshots used when Nacos is unreachable; default <c>grayrelease-nacos</c> in the user's
    /// cache folder (<c>$XDG_CACHE_HOME</c> or <c>~/.cache</c>, <c>~/Library/Caches</c>, <c>%LOCALAPPDATA%</c>). Kept
    /// private to the user (0700 / 0600 on Unix); a folder owned by another user is refused.
    /// </summary>
    public string? SnapshotPath { get; set; }

    /// <summary>Whether to receive UDP push from Nacos (1.x to 3.1) in addition to polling.</summary>
    public bool UdpPushEnabled { get; set; } = true;

    /// <summary>
    /// Address sent to Nacos as <c>clientIP</c> for UDP push (the server pushes to exactly this address); default: the
    /// local address that reaches the first server, or this machine's LAN address when that server is on loopback.
    /// </summary>
    public string? UdpHost { get; set; }

    /// <summary>UDP port for push (0 = any free port); set it with <see cref="UdpHost"/> behind a port forward.</summary>
    public int UdpPort { get; set; }

    /// <summary>
    /// Comma-separated extra addresses UDP pushes may come from (e.g. the address of a Nacos container seen from the
    /// host); pushes from the configured servers' own addresses are always accepted, anything else is dropped.
    /// </summary>
    public string? UdpTrustedSenders { get; set; }

    /// <summary>
    /// After Nacos was unreachable, how long answers are merged into the cached list instead of replacing it: a
    /// restarted server forgets ephemeral instances until each one's next heartbeat re-registers it, and adopting those
    /// partial lists would send traffic to the few instances that happened to beat first (or fail it).
    /// </summary>
    public TimeSpan RecoveryGrace { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// At most this many services are cached, subscribed and kept fresh (a poll loop over HTTP, a subscription over
    /// gRPC, a snapshot file); a service looked up beyond it is refused with a <see cref="NacosException"/> naming this
    /// key. Every host name sent through a gray-aware client is looked up, so this bounds what callers can make the
    /// process keep for the names the registry knows; names it does not know are bounded separately (1,000, kept 10 s).
    /// </summary>
    public int MaxServices { get; set; } = 2000;

    /// <summary>The server addresses, also accepting comma- or semicolon-separated lists in one entry (environment variables).</summary>
    internal List<string> GetServerAddresses()
    {
        var result = new List<string>();
        foreach (var entry in ServerAddresses)
        {
            if (entry is null)
            {
                continue;
            }

            foreach (var address in entry.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                result.Add(address);
            }
        }

        return result;
    }

    internal string NamingNamespace => string.IsNullOrEmpty(Namespace) ? "public" : Namespace;

    internal string ConfigTenant => string.IsNullOrEmpty(Namespace) || Namespace == "public" ? string.Empty : Namespace;

    internal string GetSnapshotPath() =>
        string.IsNullOrEmpty(SnapshotPath)
            ? Discovery.PrivateSnapshotFolder.DefaultRoot()
            : SnapshotPath;
}
