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
/// When Auto chose HTTP because no server answered ServerCheck, that may have been an outage or a slow server rather
/// than a 1.x server: until a v1 answer shows a server that may have no gRPC, <see cref="MayProbeAgain"/> stays true
/// and the user probes again (<see cref="ProbeAgainAsync"/>) on its own schedule (the provider: its polls; the
/// publisher: its calls, backing off in time). One place for the rule, so the two cannot drift apart.
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
    // Auto fell back to HTTP because no server answered ServerCheck, and no v1 answer has come since.
    private volatile bool _mayProbeAgain;

    private NacosGrpcSettings Settings => grpcSettings ?? NacosGrpcSettings.FromOptions(options);

    /// <summary>
    /// True while Auto runs on HTTP chosen without any ServerCheck answer and no server has answered the v1 API since:
    /// every server may have been down or slow at the choice, and a server without v1 (3.x, whose v3 client API has
    /// no listener and no publish) serves gRPC unless its port is closed. Probe again, backing off.
    /// </summary>
    public bool MayProbeAgain => _mayProbeAgain;

    /// <summary>After a successful HTTP call: a v1 answer means a server that may have no gRPC (1.x), so stop looking.</summary>
    public void HttpAnswered()
    {
        if (!client.UsesV3)
        {
            _mayProbeAgain = false;
        }
    }

    /// <summary>
    /// Chooses and logs (<paramref name="user"/>, when given, leads the reason); when Auto falls back to HTTP because no
    /// server answered ServerCheck, <see cref="MayProbeAgain"/> becomes true.
    /// </summary>
    public async Task<INacosConfigTransport> ChooseAsync(string? user, CancellationToken cancellationToken)
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
        Log.ConfigTransportChosen(logger, transport.Name, Lead(user, reason));
        _mayProbeAgain = noServerAnswered;
        return transport;
    }

    /// <summary>
    /// While <see cref="MayProbeAgain"/>: probes the gRPC port; when a server answers, the choice only met an outage, so
    /// this returns a gRPC transport for good (logged) and the caller drops its HTTP one; else null.
    /// </summary>
    public async Task<GrpcConfigTransport?> ProbeAgainAsync(string? user, CancellationToken cancellationToken)
    {
        var server = await ProbeAsync(cancellationToken).ConfigureAwait(false);
        if (server is null)
        {
            return null;
        }

        _mayProbeAgain = false;
        Log.ConfigTransportChosen(logger, "gRPC", Lead(user, $"nacos:Transport = Auto and {server} now answers ServerCheck (no server answered it when HTTP was chosen)"));
        return Grpc();
    }

    /// <summary>The first server that answers ServerCheck on its gRPC port, or null (at most 3 s per server).</summary>
    private Task<NacosGrpcServer?> ProbeAsync(CancellationToken cancellationToken) =>
        NacosGrpcConnection.ProbeAsync(options, Settings, logger, cancellationToken);

    /// <summary>A gRPC transport on a connection of its own (module=config), logged in through the HTTP client's token.</summary>
    public GrpcConfigTransport Grpc() => new(options, time, grpcLogger, http.GetAccessTokenAsync, Settings, relogin);

    private static string Lead(string? user, string reason) => user is null ? reason : $"{user}, {reason}";
}
