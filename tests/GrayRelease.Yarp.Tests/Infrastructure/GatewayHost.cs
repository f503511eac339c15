using System.Collections.Concurrent;
using GrayRelease.Discovery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GrayRelease.Yarp.Tests.Infrastructure;

/// <summary>The gateway under test: YARP with the gray pipeline, on Kestrel at 127.0.0.1 with a free port.</summary>
internal sealed class GatewayHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GatewayHost(WebApplication app) => _app = app;

    public HttpClient Client { get; private set; } = null!;

    public IServiceProvider Services => _app.Services;

    /// <summary>GrayContext.Current as every request entered the gateway: anything but null is a leak from an earlier request.</summary>
    public ConcurrentQueue<GrayStatus?> ContextAtEntry { get; } = new();

    public static async Task<GatewayHost> StartAsync(
        GatewayConfig config,
        CancellationToken cancellationToken,
        IServiceInstanceProvider? provider = null,
        Action<IServiceCollection>? configureServices = null,
        Action<WebApplicationBuilder>? configureBuilder = null,
        Action<WebApplication>? configureApp = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(config.Values);
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Services.AddGrayRelease(builder.Configuration);
        builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy")).AddGrayRelease();
        if (provider is not null)
        {
            builder.Services.AddSingleton(provider);
        }

        configureServices?.Invoke(builder.Services);
        configureBuilder?.Invoke(builder);

        var app = builder.Build();
        var host = new GatewayHost(app);
        app.Use((context, next) =>
        {
            host.ContextAtEntry.Enqueue(GrayContext.Current);
            return next(context);
        });
        configureApp?.Invoke(app);
        app.MapReverseProxy(proxy => proxy.UseGrayRouting());
        await app.StartAsync(cancellationToken);

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        host.Client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, UseProxy = false })
        {
            BaseAddress = new Uri(address),
            Timeout = TimeSpan.FromSeconds(30),
        };
        return host;
    }

    /// <summary>Changes configuration values and raises the reload, as a Nacos config push or a file change would.</summary>
    public void Reconfigure(params (string Key, string? Value)[] changes)
    {
        foreach (var (key, value) in changes)
        {
            _app.Configuration[key] = value;
        }

        ((IConfigurationRoot)_app.Configuration).Reload();
    }

    /// <summary>GET <paramref name="path"/> with optional headers; returns status and body.</summary>
    public async Task<(int Status, string Body)> GetAsync(string path, CancellationToken cancellationToken, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await Client.SendAsync(request, cancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(cts.Token);
        await _app.DisposeAsync();
    }
}
