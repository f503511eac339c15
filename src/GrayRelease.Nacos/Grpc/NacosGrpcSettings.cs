using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace GrayRelease.Nacos.Grpc;

/// <summary>
/// Timings and identity of the gRPC connection. Defaults follow the Java client
/// (common/.../remote/client/grpc/DefaultGrpcClientConfig.java, RpcClient.java); tests shorten them.
/// </summary>
internal sealed record NacosGrpcSettings
{
    /// <summary>ServerCheck answer within 3 s, else the next server (DefaultGrpcClientConfig serverCheckTimeOut).</summary>
    public TimeSpan ServerCheckTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>A 2.3+ server acks the setup once registered; Java drops the connection after 5 s without it (GrpcClient).</summary>
    public TimeSpan SetupAckTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Health check after this long without a successful call (RpcClient keepAliveTime 5 s).</summary>
    public TimeSpan HealthCheckIdle { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Timeout of one health check (DefaultGrpcClientConfig healthCheckTimeOut 3 s).</summary>
    public TimeSpan HealthCheckTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Health-check tries before reconnecting (healthCheckRetryTimes 3 + the first).</summary>
    public int HealthCheckTries { get; init; } = 4;

    /// <summary>Timeout of one unary request (including waiting for a connection): <c>nacos:DefaultTimeOut</c>.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// While connected, a failed redo step is run again this often (client/.../naming/remote/gprc/redo/RedoScheduledTask.java,
    /// scheduled every Constants.DEFAULT_REDO_DELAY_TIME = 3 s by NamingGrpcRedoService).
    /// </summary>
    public TimeSpan RedoRetryDelay { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Tests only: accepts the gRPC server's TLS certificate instead of the machine's trusted roots (a self-signed
    /// certificate on loopback). Not bound from configuration: production trust comes from the trust store.
    /// </summary>
    public Func<System.Security.Cryptography.X509Certificates.X509Certificate2?, bool>? ValidateServerCertificate { get; init; }

    /// <summary>Pause after a failed connect: this × min(full passes over the server list + 1, 50) (RpcClient).</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// HTTP/2 PING interval. The server accepts client pings every 5 min at most (GrpcSdkServer permitKeepAliveTime;
    /// faster earns GOAWAY too_many_pings); Java pings every 6 min (DefaultGrpcClientConfig channelKeepAlive).
    /// </summary>
    public TimeSpan KeepAlivePingDelay { get; init; } = TimeSpan.FromMinutes(6);

    /// <summary>No PING answer within this → the connection is dead (channelKeepAliveTimeout 20 s).</summary>
    public TimeSpan KeepAlivePingTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>10 MiB, the server's and Java's inbound limit (GrpcServerConstants, DefaultGrpcClientConfig).</summary>
    public int MaxMessageSize { get; init; } = 10 * 1024 * 1024;

    /// <summary>Label <c>AppName</c> of the connection.</summary>
    public string AppName { get; init; } = "unknown";

    /// <summary>
    /// Label <c>module</c> of the connection: <c>naming</c> (required for naming calls, naming/.../ConnectionBasedClientManager.java)
    /// or <c>config</c> (the configuration source's own connection, as client/.../config/impl/ClientWorker.java labels it).
    /// </summary>
    public string Module { get; init; } = "naming";

    /// <summary>Sent as Metadata.clientIp; the server keeps the setup's for the whole connection.</summary>
    public string ClientIp { get; init; } = "127.0.0.1";

    /// <summary>Opaque to the server (Java: <c>Nacos-Java-Client:v3.1.0</c>).</summary>
    public string ClientVersion { get; init; } = "GrayRelease.Nacos:v" + typeof(NacosGrpcSettings).Assembly.GetName().Version?.ToString(3);

    public static NacosGrpcSettings FromOptions(NacosOptions options, string? appName = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new NacosGrpcSettings
        {
            RequestTimeout = TimeSpan.FromMilliseconds(Math.Max(1, options.DefaultTimeOut)),
            AppName = string.IsNullOrWhiteSpace(appName) ? options.ServiceName ?? "unknown" : appName,
            ClientIp = string.IsNullOrEmpty(options.Ip) ? LocalIPv4() : options.Ip,
        };
    }

    /// <summary>First up, non-loopback IPv4 address; 127.0.0.1 when there is none or interfaces cannot be read.</summary>
    private static string LocalIPv4()
    {
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                if (nic.OperationalStatus != OperationalStatus.Up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback)
                {
                    continue;
                }

                foreach (var address in nic.GetIPProperties().UnicastAddresses)
                {
                    if (address.Address.AddressFamily == AddressFamily.InterNetwork)
                    {
                        return address.Address.ToString();
                    }
                }
            }
        }
        catch (NetworkInformationException)
        {
            // Best effort only: the address is informational for the server.
        }

        return "127.0.0.1";
    }
}

/// <summary>State of the shared connection; <see cref="Connected"/> only once the redo steps have run.</summary>
internal enum NacosGrpcConnectionState
{
    Disconnected,
    Connecting,
    Connected,
    Closed,
}

internal sealed class NacosGrpcStateChangedEventArgs(NacosGrpcConnectionState state, string? server, string? connectionId, string? reason) : EventArgs
{
    public NacosGrpcConnectionState State { get; } = state;

    public string? Server { get; } = server;

    public string? ConnectionId { get; } = connectionId;

    public string? Reason { get; } = reason;
}

/// <summary>Sends unary requests; what the redo steps get (the fresh connection, before anyone else may send).</summary>
internal interface INacosGrpcRequester
{
    Task<TResponse> RequestAsync<TResponse>(NacosGrpcRequest request, CancellationToken cancellationToken)
        where TResponse : NacosGrpcResponse;
}
