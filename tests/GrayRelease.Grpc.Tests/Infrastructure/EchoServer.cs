using System.Net;
using Grpc.Core;
using GrayRelease.Discovery;
using GrayRelease.Grpc.Tests.Protos;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Grpc.Tests.Infrastructure;

/// <summary>A real Kestrel gRPC server (HTTP/2 cleartext on 127.0.0.1, free port) with the gray middleware in front of it.</summary>
public sealed class EchoServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EchoServer(WebApplication app, EchoState state, int port)
    {
        _app = app;
        State = state;
        Port = port;
    }

    internal EchoState State { get; }

    public int Port { get; }

    public Uri Address => new($"http://127.0.0.1:{Port}");

    public int Calls => State.Calls;

    /// <summary>TCP connections accepted so far.</summary>
    public int Connections => State.Connections;

    /// <param name="failing">Every call answers UNAVAILABLE (a sick instance), after counting it.</param>
    public static async Task<EchoServer> StartAsync(string version, string? lane = null, bool failing = false, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        var state = new EchoState(version, lane ?? string.Empty, failing);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            listen.Use(next => connection =>
            {
                state.CountConnection();
                return next(connection);
            });
        }));
        builder.Logging.ClearProviders();
        var settings = new Dictionary<string, string?> { ["GrayRelease:Version"] = version, ["GrayRelease:ProdVersion"] = "v1", ["GrayRelease:GrayVersion"] = "v2" };
        if (lane is not null)
        {
            settings["GrayRelease:Lane"] = lane;
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton(state);
        builder.Services.AddGrpc();
        builder.Services.AddGrayRelease(builder.Configuration);
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.UseGrayRelease();
        app.MapGrpcService<EchoService>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StartAsync(timeout.Token);
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
        state.Port = address.Port;
        return new EchoServer(app, state, address.Port);
    }

    /// <summary>This server as a registry instance.</summary>
    public ServiceInstance Instance(string service = "user-app", double weight = 1) => new()
    {
        ServiceName = service,
        Host = "127.0.0.1",
        Port = Port,
        Weight = weight,
        Metadata = State.Lane.Length == 0
            ? new Dictionary<string, string> { ["version"] = State.Version }
            : new Dictionary<string, string> { ["version"] = State.Version, ["lane"] = State.Lane },
    };

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}

internal sealed class EchoState(string version, string lane, bool failing)
{
    private int _calls;
    private int _connections;

    public string Version { get; } = version;

    public string Lane { get; } = lane;

    public bool Failing { get; } = failing;

    public int Port { get; set; }

    public int Calls => Volatile.Read(ref _calls);

    public int Connections => Volatile.Read(ref _connections);

    public void Count() => Interlocked.Increment(ref _calls);

    public void CountConnection() => Interlocked.Increment(ref _connections);
}

internal sealed class EchoService(EchoState state) : Echo.EchoBase
{
    public override Task<WhoReply> Who(WhoRequest request, ServerCallContext context)
    {
        state.Count();
        if (state.Failing)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "sick instance"));
        }

        return Task.FromResult(new WhoReply
        {
            Version = state.Version,
            Lane = state.Lane,
            Status = GrayContext.Current?.ToWireValue() ?? string.Empty,
            ContextLane = GrayContext.CurrentLane ?? string.Empty,
            Port = state.Port,
        });
    }

    public override async Task<WhoReply> Relay(WhoRequest request, ServerCallContext context)
    {
        // No capture, no hand-written header: the tag the middleware read flows into the onward call.
        var client = context.GetHttpContext().RequestServices.GetRequiredService<Echo.EchoClient>();
        return await client.WhoAsync(request, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: context.CancellationToken);
    }
}
