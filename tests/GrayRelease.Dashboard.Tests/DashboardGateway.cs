using System.Text.Encodings.Web;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Testing;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace GrayRelease.Dashboard.Tests;

/// <summary>
/// The demo's shape on loopback: the emulator, two versions of "orders" registered in it (V1 prod, V2 gray), and a
/// gateway (Kestrel on 127.0.0.1:0) that takes orders' instances from the registry, observes every request, runs the
/// rollout and maps the operations page at /_gray.
/// </summary>
internal sealed class DashboardGateway : IAsyncDisposable
{
    public const string Service = "orders";

    private readonly List<Backend> _backends = [];
    private WebApplication _gateway = null!;

    public NacosEmulator Nacos { get; private set; } = null!;

    public Uri Address { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public FakeLogCollector Logs { get; } = new();

    public RolloutEngine Engine => _gateway.Services.GetRequiredService<RolloutEngine>();

    public static async Task<DashboardGateway> StartAsync(CancellationToken cancellationToken, bool requireAuthorization = false)
    {
        var rig = new DashboardGateway();
        try
        {
            rig.Nacos = await NacosEmulator.StartAsync(cancellationToken: cancellationToken);
            foreach (var version in new[] { "V1", "V2" })
            {
                var backend = await Backend.StartAsync(version, cancellationToken);
                rig._backends.Add(backend);
                var port = backend.Address.Port;
                rig.Nacos.RegisterInstance(Service, "127.0.0.1", port, new Dictionary<string, string> { ["version"] = version }, weight: version == "V1" ? 2 : 1);
            }

            await rig.StartGatewayAsync(requireAuthorization, cancellationToken);
            return rig;
        }
        catch
        {
            await rig.DisposeAsync();
            throw;
        }
    }

    /// <summary>The rollout state dataId as Nacos holds it.</summary>
    public RolloutStateDocument? State() => RolloutTestHost.State(Nacos);

    /// <summary>Waits until the gateway routes to both registry instances and its rollout runs (its own view, not only Nacos).</summary>
    public async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        var proxy = _gateway.Services.GetRequiredService<global::Yarp.ReverseProxy.IProxyStateLookup>();
        // The callers' token bounds the wait (60-120 s); the deadline only has to be no shorter.
        await Eventually.WaitUntilAsync(
            () => Engine.GetSnapshot().Status == RolloutStatus.Progressing
                && proxy.TryGetCluster(Service, out var cluster) && cluster.Destinations.Count == 2,
            "the gateway routes to both registry instances and its rollout runs",
            TimeSpan.FromSeconds(120),
            cancellationToken);
    }

    /// <summary>Proxied traffic: <paramref name="prod"/> plain requests and <paramref name="gray"/> with the gray header (the default gray rule).</summary>
    public async Task SendTrafficAsync(int prod, int gray, CancellationToken cancellationToken)
    {
        for (var i = 0; i < prod + gray; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/orders", UriKind.Relative));
            if (i >= prod)
            {
                request.Headers.Add("gray", "gray-996");
            }

            using var response = await Client.SendAsync(request, cancellationToken);
            response.EnsureSuccessStatusCode();
        }
    }

    private async Task StartGatewayAsync(bool requireAuthorization, CancellationToken cancellationToken)
    {
        var values = RolloutTestHost.GatewaySettings(Nacos);
        values["GrayRelease:Gateway:Lanes:feature-b:HeaderName"] = "x-lane";
        values["GrayRelease:Gateway:Lanes:feature-b:HeaderValue"] = "b";
        values["GrayRelease:Gateway:Rollout:Interval"] = "00:10:00";
        values["ReverseProxy:Routes:api:ClusterId"] = Service;
        values["ReverseProxy:Routes:api:Match:Path"] = "/api/{**rest}";
        values["ReverseProxy:Clusters:orders:LoadBalancingPolicy"] = "GrayRoundRobin";
        values["ReverseProxy:Clusters:orders:Destinations:registry:Address"] = "http://orders";
        values["ReverseProxy:Clusters:orders:Destinations:registry:Metadata:GrayRelease.Service"] = Service;

        _gateway = await RolloutTestHost.StartGatewayAsync(
            values,
            Logs,
            cancellationToken,
            services =>
            {
                if (requireAuthorization)
                {
                    // A scheme that never signs anyone in: every request is anonymous, so an authorized endpoint answers 401.
                    services.AddAuthentication(AnonymousHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, AnonymousHandler>(AnonymousHandler.SchemeName, null);
                    services.AddAuthorization();
                }
            },
            app =>
            {
                var dashboard = app.MapGrayReleaseDashboard("/_gray");
                if (requireAuthorization)
                {
                    dashboard.RequireAuthorization();
                }
            });
        Address = RolloutTestHost.AddressOf(_gateway);
        Client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        if (_gateway is not null)
        {
            await _gateway.StopAsync(cts.Token);
            await _gateway.DisposeAsync();
        }

        foreach (var backend in _backends)
        {
            await backend.DisposeAsync();
        }

        if (Nacos is not null)
        {
            await Nacos.DisposeAsync();
        }
    }
}

/// <summary>Authenticates nobody.</summary>
internal sealed class AnonymousHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "anonymous";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync() => Task.FromResult(AuthenticateResult.NoResult());
}
