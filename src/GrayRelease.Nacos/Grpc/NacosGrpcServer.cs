using GrayRelease.Nacos.Http;

namespace GrayRelease.Nacos.Grpc;

/// <summary>One configured Nacos server: its main (HTTP) port, as ConnectResetRequest names it, and its gRPC address.</summary>
internal sealed record NacosGrpcServer(string Host, int Port, int GrpcPort, bool Tls = false)
{
    /// <summary>gRPC port = HTTP port + 1000 (api/.../common/Constants.java SDK_GRPC_PORT_DEFAULT_OFFSET).</summary>
    public const int PortOffset = 1000;

    /// <summary>
    /// Plaintext h2c by default (the server's TLS is off by default, PROTOCOL-GRPC.md §1); h2 over TLS with
    /// <c>nacos:GrpcTls</c> or an https server address (core/.../remote/grpc/GrpcSdkServer.java with
    /// nacos.remote.server.rpc.tls.enableTls).
    /// </summary>
    public Uri Address { get; } = new UriBuilder(Tls ? Uri.UriSchemeHttps : Uri.UriSchemeHttp, Host, GrpcPort).Uri;

    public override string ToString() => Address.Authority;

    /// <summary>The gRPC endpoints of <c>nacos:ServerAddresses</c>, skipping unparsable entries (the validator reports them).</summary>
    public static List<NacosGrpcServer> FromOptions(NacosOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = new List<NacosGrpcServer>();
        foreach (var address in options.GetServerAddresses())
        {
            if (NacosServerAddress.TryParse(address, out var uri))
            {
                var grpcPort = options.GrpcPort > 0 ? options.GrpcPort : uri.Port + PortOffset;
                result.Add(new NacosGrpcServer(uri.Host, uri.Port, grpcPort, options.GrpcTls || uri.Scheme == Uri.UriSchemeHttps));
            }
        }

        return result;
    }

    /// <summary>Start-up validation of <c>nacos:GrpcPort</c>; every failure names the key and the value.</summary>
    public static void Validate(NacosOptions options, List<string> failures)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(failures);
        if (options.GrpcPort is < 0 or > 65535)
        {
            failures.Add($"nacos:GrpcPort must be between 0 (HTTP port + {PortOffset}) and 65535; got '{options.GrpcPort}'.");
            return;
        }

        if (options.GrpcPort != 0)
        {
            return;
        }

        foreach (var address in options.GetServerAddresses())
        {
            if (NacosServerAddress.TryParse(address, out var uri) && uri.Port + PortOffset > 65535)
            {
                failures.Add($"nacos:GrpcPort must be set when a server's HTTP port + {PortOffset} is not a port (server '{address}'); got '{options.GrpcPort}'.");
            }
        }
    }
}
