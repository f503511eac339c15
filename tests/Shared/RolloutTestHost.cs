using System.Globalization;
using System.Text.Json;
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

namespace GrayRelease.Rollouts.Testing;

/// <summary>
/// Gateways with a running rollout on loopback, as an application wires them, for the rollout and the dashboard tests
/// (a source file linked into both test projects: tests/Shared).
/// </summary>
internal static class RolloutTestHost
{
    /// <summary>
    /// What every such gateway is configured with: the emulator over gRPC, no self-registration, V1 prod and V2 gray,
    /// the gray gateway and its rollout on. Add routes, clusters and rollout settings.
    /// </summary>
    public static Dictionary<string, string?> GatewaySettings(NacosEmulator nacos) => new()
    {
        ["nacos:ServerAddresses:0"] = nacos.ServerAddress,
        ["nacos:GrpcPort"] = nacos.GrpcPort.ToString(CultureInfo.InvariantCulture),
        ["nacos:Transport"] = "Grpc",
        ["nacos:RegisterEnabled"] = "false",
        ["nacos:DefaultTimeOut"] = "5000",
        ["GrayRelease:ProdVersion"] = "V1",
        ["GrayRelease:GrayVersion"] = "V2",
        ["GrayRelease:Gateway:Enabled"] = "true",
        ["GrayRelease:Gateway:Rollout:Enabled"] = "true",
    };

    /// <summary>
    /// Starts a gateway on 127.0.0.1:0 configured by <paramref name="settings"/> alone: YARP from <c>ReverseProxy</c>,
    /// gray routing, observation and the rollout (with its endpoint), Nacos, logs into <paramref name="logs"/>.
    /// <paramref name="services"/> and <paramref name="endpoints"/> add what a test needs on top.
    /// </summary>
    public static async Task<WebApplication> StartGatewayAsync(
        Dictionary<string, string?> settings,
        FakeLogCollector logs,
        CancellationToken cancellationToken,
        Action<IServiceCollection>? services = null,
        Action<WebApplication>? endpoints = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Information).AddProvider(new FakeLoggerProvider(logs));
        builder.Services.AddGrayRelease(builder.Configuration).AddNacos();
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddGrayRelease()
            .AddGrayReleaseRollout();
        services?.Invoke(builder.Services);

        var app = builder.Build();
        try
        {
            app.MapReverseProxy(proxy =>
            {
                proxy.UseGrayRouting();
                proxy.UseGrayReleaseObservation();
            });
            app.MapGrayReleaseRollout();
            endpoints?.Invoke(app);
            await app.StartAsync(cancellationToken);
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    public static Uri AddressOf(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());

    /// <summary>The rollout state dataId as Nacos holds it.</summary>
    public static RolloutStateDocument? State(NacosEmulator nacos, string dataId = "grayrelease-rollout.json") =>
        nacos.GetConfig(dataId, "DEFAULT_GROUP") is { } content ? JsonSerializer.Deserialize(content, RolloutJsonContext.Default.RolloutStateDocument) : null;
}

/// <summary>A backend on 127.0.0.1:0 that answers its version; optionally every <c>failEvery</c>-th request with a 500.</summary>
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
        backend.Address = RolloutTestHost.AddressOf(app);
        return backend;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
