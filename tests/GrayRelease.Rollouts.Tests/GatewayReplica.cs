using GrayRelease.Nacos.Emulator;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
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
        var values = RolloutTestHost.GatewaySettings(nacos);
        values["GrayRelease:Gateway:UserIdHeader"] = "X-User-Id";
        values["ReverseProxy:Routes:api:ClusterId"] = "svc";
        values["ReverseProxy:Routes:api:Match:Path"] = "/api/{**rest}";
        values["ReverseProxy:Clusters:svc:LoadBalancingPolicy"] = "GrayRoundRobin";
        values["ReverseProxy:Clusters:svc:Destinations:v1:Address"] = v1.ToString();
        values["ReverseProxy:Clusters:svc:Destinations:v1:Metadata:version"] = "V1";
        values["ReverseProxy:Clusters:svc:Destinations:v2:Address"] = v2.ToString();
        values["ReverseProxy:Clusters:svc:Destinations:v2:Metadata:version"] = "V2";
        foreach (var (key, value) in rollout)
        {
            values["GrayRelease:Gateway:Rollout:" + key] = value;
        }

        var logs = new FakeLogCollector();
        var app = await RolloutTestHost.StartGatewayAsync(values, logs, cancellationToken);
        return new GatewayReplica(app, logs)
        {
            Client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 16, UseProxy = false }) { BaseAddress = RolloutTestHost.AddressOf(app), Timeout = TimeSpan.FromSeconds(10) },
        };
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
