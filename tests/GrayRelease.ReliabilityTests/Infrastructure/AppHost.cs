using GrayRelease.LoadBalancing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GrayRelease.ReliabilityTests.Infrastructure;

/// <summary>One in-process application (gateway, order-app or user-app) on real Kestrel at 127.0.0.1 with a free port.</summary>
internal sealed class AppHost : IAsyncDisposable
{
    private int _stopped;

    private AppHost(string name, string service, string? version, WebApplication app, Uri address, HostCounters counters)
    {
        Counters = counters;
        Name = name;
        Service = service;
        Version = version;
        App = app;
        Address = address;
    }

    public string Name { get; }

    public string Service { get; }

    public string? Version { get; }

    public WebApplication App { get; }

    public Uri Address { get; }

    public int Port => Address.Port;

    /// <summary>Requests this host's endpoints began to handle (counted by the endpoint itself, so retries show).</summary>
    public HostCounters Counters { get; }

    public bool IsStopped => Volatile.Read(ref _stopped) == 1;

    public IGrayLoadBalancer LoadBalancer => App.Services.GetRequiredService<IGrayLoadBalancer>();

    public static async Task<AppHost> StartAsync(
        string name,
        string service,
        string? version,
        Action<WebApplicationBuilder> configure,
        Action<WebApplication, HostCounters> map,
        CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.UseShutdownTimeout(TimeSpan.FromSeconds(15));
        configure(builder);
        var app = builder.Build();
        var counters = new HostCounters();
        map(app, counters);
        await app.StartAsync(cancellationToken);
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return new AppHost(name, service, version, app, address, counters);
    }

    /// <summary>A graceful stop: deregister from Nacos, drain, then let Kestrel finish the requests in flight.</summary>
    public async Task StopGracefullyAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            await App.StopAsync(cancellationToken);
        }
    }

    /// <summary>
    /// A crash as far as the rest of the system can tell: the listening socket closes and open connections are cut
    /// at once, heartbeats stop, and nothing is deregistered (the stop is cancelled before any hosted service can act).
    /// </summary>
    public async Task CrashAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        using var now = new CancellationTokenSource();
        await now.CancelAsync();
        try
        {
            await App.StopAsync(now.Token);
        }
        catch (Exception exception) when (exception is OperationCanceledException or AggregateException)
        {
            // Expected: every stopping step was cancelled, which is the point.
        }

        // A crashed process's sockets are closed by the OS: over gRPC that is what tells Nacos the instance is gone.
        // Disposing the container closes them (the gRPC connection among them) without any deregistration call.
        await App.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await App.StopAsync(bounded.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or AggregateException)
            {
            }
        }

        // Idempotent: a crashed host was disposed already.
        await App.DisposeAsync();
    }
}

/// <summary>What a host's own endpoints counted.</summary>
internal sealed class HostCounters
{
    private int _gets;
    private int _posts;

    public int Gets => Volatile.Read(ref _gets);

    public int Posts => Volatile.Read(ref _posts);

    public void Get() => Interlocked.Increment(ref _gets);

    public void Post() => Interlocked.Increment(ref _posts);
}
