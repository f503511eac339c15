using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Grpc;
using GrayRelease.Nacos.Http;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Configuration;

/// <summary>
/// The configuration transport <c>nacos:Transport</c> names, for the configuration provider and the publisher alike:
/// Http → HTTP (v1 long polling, the v3 client API where v1 is gone: <see cref="NacosConfigClient"/>); Grpc (or Auto
/// with <c>nacos:ConfigUseRpc = true</c>, the Nacos.AspNetCore switch) → gRPC only; Auto → gRPC when a server answers
/// ServerCheck on its gRPC port (2.x / 3.x), else HTTP (1.x, or the port closed). Each choice is logged, with the reason.
/// </summary>
internal sealed class ConfigTransportChooser(
    NacosOptions options,
    NacosHttpClient http,
    NacosConfigClient client,
    TimeProvider time,
    ILogger logger,
    ILogger grpcLogger,
    NacosGrpcSettings? grpcSettings = null,
    Func<string, CancellationToken, ValueTask<string?>>? relogin = null)
{
    private NacosGrpcSettings Settings => grpcSettings ?? NacosGrpcSettings.FromOptions(options);

    /// <summary>
    /// Chooses and logs (<paramref name="user"/>, when given, leads the reason); NoServerAnswered is true when Auto fell
    /// back to HTTP because no server answered ServerCheck (maybe only an outage at start-up: see <see cref="ProbeAsync"/>).
    /// </summary>
    public async Task<(INacosConfigTransport Transport, bool NoServerAnswered)> ChooseAsync(string? user, CancellationToken cancellationToken)
    {
        string reason;
        var useGrpc = false;
        var noServerAnswered = false;
        switch (options.Transport)
        {
            case NacosTransport.Http:
                reason = "nacos:Transport = Http";
                break;
            case NacosTransport.Grpc:
                useGrpc = true;
                reason = "nacos:Transport = Grpc";
                break;
            default:
                if (options.ConfigUseRpc)
                {
                    useGrpc = true;
                    reason = "nacos:ConfigUseRpc = true (nacos:Transport = Auto)";
                    break;
                }

                var server = await ProbeAsync(cancellationToken).ConfigureAwait(false);
                useGrpc = server is not null;
                noServerAnswered = server is null;
                reason = server is not null
                    ? $"nacos:Transport = Auto and {server} answered ServerCheck (Nacos 2.x / 3.x)"
                    : $"nacos:Transport = Auto and no server answered ServerCheck on its gRPC port ({string.Join(", ", NacosGrpcServer.FromOptions(options))}): a Nacos 1.x server, or the port is closed; set nacos:Transport = Grpc to insist";
                break;
        }

        INacosConfigTransport transport = useGrpc ? Grpc() : new HttpConfigTransport(client, TimeSpan.FromMilliseconds(options.DefaultTimeOut));
        Log.ConfigTransportChosen(logger, transport.Name, user is null ? reason : $"{user}, {reason}");
        return (transport, noServerAnswered);
    }

    /// <summary>The first server that answers ServerCheck on its gRPC port, or null (at most 3 s per server).</summary>
    public Task<NacosGrpcServer?> ProbeAsync(CancellationToken cancellationToken) =>
        NacosGrpcConnection.ProbeAsync(options, Settings, logger, cancellationToken);

    /// <summary>A gRPC transport on a connection of its own (module=config), logged in through the HTTP client's token.</summary>
    public GrpcConfigTransport Grpc() => new(options, time, grpcLogger, http.GetAccessTokenAsync, Settings, relogin);
}
