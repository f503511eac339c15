using System.Globalization;
using GrayRelease.Nacos.Emulator;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace GrayRelease.Rollouts.Tests;

/// <summary>A gateway replica as an application wires it: YARP + gray pipeline + observation + rollout, Nacos over gRPC, Kestrel on 127.0.0.1.</summary>
internal sealed class GatewayReplica : IAsyncDisposable
{
    private readonly WebApplication _app;
    private bool _disposed;

    private GatewayReplica(WebApplication app, FakeLogCollector logs)
    {
        _app = app;
        Logs = logs;
    }

    public HttpClient Client { get; private set; } = null!;

    public IServiceProvider Services => _app.Services;

    public RolloutEngine Engine => _app.Services.GetRequiredService<RolloutEngine>();

    public FakeLogCollector Logs { get; }

    public bool IsStopped => _disposed;

    public static async Task<GatewayReplica> StartAsync(NacosEmulator nacos, Uri v1, Uri v2, Dictionary<string, string?> rollout, CancellationToken cancellationToken)
    {
        var values = new Dictionary<string, string?>
        {
            ["nacos:ServerAddresses:0"] = nacos.ServerAddress,
            ["nacos:GrpcPort"] = nacos.GrpcPort.ToString(CultureInfo.InvariantCulture),
            ["nacos:Transport"] = "Grpc",
            ["nacos:RegisterEnabled"] = "false",
            ["nacos:DefaultTimeOut"] = "5000",
            ["GrayRelease:ProdVersion"] = "V1",
            ["GrayRelease:GrayVersion"] = "V2",
            ["GrayRelease:Gateway:Enabled"] = "true",
            ["GrayRelease:Gateway:UserIdHeader"] = "X-User-Id",
            ["GrayRelease:Gateway:Rollout:Enabled"] = "true",
            ["ReverseProxy:Routes:api:ClusterId"] = "svc",
            ["ReverseProxy:Routes:api:Match:Path"] = "/api/{**rest}",
            ["ReverseProxy:Clusters:svc:LoadBalancingPolicy"] = "GrayRoundRobin",
            ["ReverseProxy:Clusters:svc:Destinations:v1:Address"] = v1.ToString(),
            ["ReverseProxy:Clusters:svc:Destinations:v1:Metadata:version"] = "V1",
            ["ReverseProxy:Clusters:svc:Destinations:v2:Address"] = v2.ToString(),
            ["ReverseProxy:Clusters:svc:Destinations:v2:Metadata:version"] = "V2",
        };
        foreach (var (key, value) in rollout)
        {
            values["GrayRelease:Gateway:Rollout:" + key] = value;
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(values);
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        var logs = new FakeLogCollector();
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Information).AddProvider(new FakeLoggerProvider(logs));
        builder.Services.AddGrayRelease(builder.Configuration).AddNacos();
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddGrayRelease()
            .AddGrayReleaseRollout();

        var app = builder.Build();
        app.MapReverseProxy(proxy =>
        {
            proxy.UseGrayRouting();
            proxy.UseGrayReleaseObservation();
        });
        app.MapGrayReleaseRollout();
        await app.StartAsync(cancellationToken);

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        var replica = new GatewayReplica(app, logs)
        {
            Client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 16, UseProxy = false }) { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(10) },
        };
        return replica;
    }

    /// <summary>Stops like a crash as far as the lease goes: it is not released, so the other replica must wait for it to expire.</summary>
    public async Task CrashAsync()
    {
        Engine.ReleaseLeaseOnStop = false;
        await DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Client?.Dispose();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await _app.StopAsync(cts.Token);
        await _app.DisposeAsync();
    }
}

/// <summary>A backend that answers its version; optionally every <c>failEvery</c>-th request with a 500.</summary>
internal sealed class Backend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private long _requests;

    private Backend(WebApplication app) => _app = app;

    public Uri Address { get; private set; } = null!;

    public int FailEvery { get; set; }

    public static async Task<Backend> StartAsync(string version, CancellationToken cancellationToken, int failEvery = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        var app = builder.Build();
        var backend = new Backend(app) { FailEvery = failEvery };
        app.MapFallback((HttpContext context) =>
        {
            var n = Interlocked.Increment(ref backend._requests);
            if (backend.FailEvery > 0 && n % backend.FailEvery == 0)
            {
                context.Response.StatusCode = 500;
            }

            return version;
        });
        await app.StartAsync(cancellationToken);
        backend.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return backend;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
