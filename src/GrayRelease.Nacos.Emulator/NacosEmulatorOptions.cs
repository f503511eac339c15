using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Emulator;

/// <summary>
/// Settings of a <see cref="NacosEmulator"/>: where it listens, how fast ephemeral instances expire, push and auth.
/// </summary>
public sealed class NacosEmulatorOptions
{
    /// <summary>The address to listen on (an IP address or <c>localhost</c>). Defaults to 127.0.0.1.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>The TCP port; 0 picks a free port (the standalone program defaults to 8848).</summary>
    public int Port { get; set; }

    /// <summary>An ephemeral instance becomes unhealthy when no beat arrived for this long (Nacos default 15 s).</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>An ephemeral instance is removed when no beat arrived for this long (Nacos default 30 s).</summary>
    public TimeSpan DeleteTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often heartbeat expiry and push subscriptions are checked.</summary>
    public TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The beat interval, in milliseconds, that beat answers tell clients to use.</summary>
    public int ClientBeatIntervalMillis { get; set; } = 5000;

    /// <summary>The <c>cacheMillis</c> of instance-list answers: how often clients poll.</summary>
    public int CacheMillis { get; set; } = 10000;

    /// <summary>Whether list calls with a <c>udpPort</c> subscribe the caller to UDP push.</summary>
    public bool PushEnabled { get; set; } = true;

    /// <summary>How long a UDP push waits for the client's ack before it is sent once more (Nacos: 10 s, one retry).</summary>
    public TimeSpan PushAckTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A push subscription is dropped when its client made no list call for this long.</summary>
    public TimeSpan PushSubscriptionTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Whether every call but login needs a valid access token.</summary>
    public bool AuthEnabled { get; set; }

    /// <summary>The only user that can log in.</summary>
    public string UserName { get; set; } = "nacos";

    /// <summary>That user's password.</summary>
    public string Password { get; set; } = "nacos";

    /// <summary>How long an access token stays valid.</summary>
    public TimeSpan TokenTtl { get; set; } = TimeSpan.FromSeconds(18000);

    /// <summary>
    /// Answers every <c>/nacos/v1/*</c> call (the v1 logins included) <c>410 Gone</c>, as Nacos 3.0/3.1 do with
    /// <c>nacos.core.api.compatibility.client.enabled=false</c>; the v3 login still works.
    /// </summary>
    public bool V1ApiGone { get; set; }

    /// <summary>
    /// The clock for heartbeats, expiry, tokens, push retries and timestamps; a fake one lets tests move time.
    /// Response delays and the config listener's hold use the wall clock so a stopped fake clock cannot stall clients.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// The server line to behave as (what is served: gRPC, v1/v2/v3 HTTP, UDP push). Defaults to
    /// <see cref="NacosServerLine.Nacos32"/>, the current line: gRPC and the v3 client API, no v1/v2 HTTP, no UDP push.
    /// </summary>
    public NacosServerLine ServerLine { get; set; } = NacosServerLine.Nacos32;

    /// <summary>
    /// How long after a change (or a first subscription) a gRPC <c>NotifySubscriberRequest</c> is sent; changes
    /// within it are pushed together. The real server waits 500 ms (<c>nacos.naming.push.pushTaskDelay</c>).
    /// </summary>
    public TimeSpan GrpcPushDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// When set, the gRPC port speaks h2 over TLS with this certificate (it must carry its private key), as a server
    /// with <c>nacos.remote.server.rpc.tls.enableTls=true</c>; null (default) = plaintext h2c, the server's default.
    /// </summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? GrpcCertificate { get; set; }

    /// <summary>Where the emulator logs; none (silent) by default.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Host))
        {
            throw new ArgumentException("NacosEmulatorOptions.Host must be set.", nameof(Host));
        }

        if (Port is < 0 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(Port), Port, "NacosEmulatorOptions.Port must be between 0 and 65535.");
        }

        if (!Enum.IsDefined(ServerLine))
        {
            throw new ArgumentOutOfRangeException(nameof(ServerLine), ServerLine, "NacosEmulatorOptions.ServerLine must be Nacos14, Nacos2, Nacos31 or Nacos32.");
        }

        if (ServerLine != NacosServerLine.Nacos14 && Port > 65535 - GrpcPortOffset)
        {
            throw new ArgumentOutOfRangeException(nameof(Port), Port, $"NacosEmulatorOptions.Port {Port}: the gRPC port (Port + {GrpcPortOffset}) would be above 65535.");
        }

        if (GrpcPushDelay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(GrpcPushDelay), GrpcPushDelay, "NacosEmulatorOptions.GrpcPushDelay must not be negative.");
        }

        RequirePositive(HeartbeatTimeout, nameof(HeartbeatTimeout));
        RequirePositive(DeleteTimeout, nameof(DeleteTimeout));
        RequirePositive(HealthCheckInterval, nameof(HealthCheckInterval));
        RequirePositive(PushAckTimeout, nameof(PushAckTimeout));
        RequirePositive(PushSubscriptionTimeout, nameof(PushSubscriptionTimeout));
        RequirePositive(TokenTtl, nameof(TokenTtl));
        if (ClientBeatIntervalMillis <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ClientBeatIntervalMillis), ClientBeatIntervalMillis, "NacosEmulatorOptions.ClientBeatIntervalMillis must be positive.");
        }

        if (CacheMillis <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(CacheMillis), CacheMillis, "NacosEmulatorOptions.CacheMillis must be positive.");
        }

        if (AuthEnabled && (string.IsNullOrEmpty(UserName) || string.IsNullOrEmpty(Password)))
        {
            throw new ArgumentException("NacosEmulatorOptions.UserName and Password must be set when AuthEnabled is true.", nameof(UserName));
        }

        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
    }

    private static void RequirePositive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, value, $"NacosEmulatorOptions.{name} must be positive.");
        }
    }

    /// <summary>The gRPC port is the main port + 1000, as on the real server (8848 → 9848).</summary>
    internal const int GrpcPortOffset = 1000;

    internal bool ServesGrpc => ServerLine != NacosServerLine.Nacos14;

    internal bool ServesV3ClientApi => ServerLine is NacosServerLine.Nacos31 or NacosServerLine.Nacos32;

    internal NacosEmulatorOptions Clone() => (NacosEmulatorOptions)MemberwiseClone();
}
