using Grpc.Core;
using Grpc.Net.Client.Configuration;
using GrayRelease.ReliabilityTests.Grpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrayRelease.ReliabilityTests.Infrastructure;

/// <summary>
/// The gRPC variant of the system (issue 15): user-app and order-app serving gRPC over HTTP/2 cleartext on Kestrel
/// (127.0.0.1, free port), registered in the Nacos emulator like the HTTP apps (<c>AddGrayRelease().AddNacos()</c>,
/// Nacos gRPC transport), order-app calling user-app through <c>AddGrpcClient(nacos://user-app).AddGrayReleaseGrpc()</c>
/// and nothing else: the context the inbound middleware read from the call's metadata flows into the onward call.
/// </summary>
internal static class GrpcHosts
{
    public const string Client = "grpc-client";

    /// <summary>Starts a gRPC user-app instance of <paramref name="version"/>, in <paramref name="lane"/> if given.</summary>
    public static Task<AppHost> StartGrpcUserAsync(this GraySystem system, string version, CancellationToken cancellationToken, string? lane = null) =>
        system.StartAsync("user-app", version, builder => Configure(builder, lane), (app, _) =>
        {
            app.UseGrayRelease();
            app.MapGrpcService<UserHopService>();
        }, cancellationToken);

    /// <summary>Starts a gRPC order-app instance whose user-app client retries with <paramref name="retry"/> (none if null).</summary>
    public static Task<AppHost> StartGrpcOrderAsync(this GraySystem system, string version, CancellationToken cancellationToken, string? lane = null, RetryPolicy? retry = null) =>
        system.StartAsync("order-app", version, builder =>
        {
            Configure(builder, lane);
            AddUserClient(builder.Services, retry);
            if (retry is not null)
            {
                // Its retry decisions ("Evaluated retry ..." per failed attempt; it also logs one line per call).
                builder.Logging.AddFilter("Grpc.Net.Client.Internal.RetryCall", LogLevel.Debug);
            }
        }, (app, _) =>
        {
            app.UseGrayRelease();
            app.MapGrpcService<OrderHopService>();
        }, cancellationToken);

    /// <summary>
    /// A host that only calls: its gray gRPC client to order-app (<see cref="OrderClient"/>) resolves through Nacos,
    /// and the test sets the gray context around each call as application code would.
    /// </summary>
    public static Task<AppHost> StartGrpcClientAsync(this GraySystem system, CancellationToken cancellationToken) =>
        system.StartAsync(Client, version: null, builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["nacos:RegisterEnabled"] = "false" });
            builder.Services.AddSingleton(new GrpcHostState());
            builder.Services.AddGrpcClient<OrderHop.OrderHopClient>(o => o.Address = new Uri("nacos://order-app")).AddGrayReleaseGrpc();
        }, (_, _) => { }, cancellationToken);

    public static OrderHop.OrderHopClient OrderClient(this AppHost host) => host.App.Services.GetRequiredService<OrderHop.OrderHopClient>();

    public static GrpcHostState GrpcState(this AppHost host) => host.App.Services.GetRequiredService<GrpcHostState>();

    /// <summary>The retry policy of the README (idempotent calls, <c>UNAVAILABLE</c> retryable), with short back-offs.</summary>
    public static RetryPolicy UnavailableRetry() => new()
    {
        MaxAttempts = 5,
        InitialBackoff = TimeSpan.FromMilliseconds(20),
        MaxBackoff = TimeSpan.FromMilliseconds(200),
        BackoffMultiplier = 2,
        RetryableStatusCodes = { StatusCode.Unavailable },
    };

    private static void Configure(WebApplicationBuilder builder, string? lane)
    {
        var state = new GrpcHostState();
        builder.Services.AddSingleton(state);
        builder.Services.AddGrpc();
        if (lane is not null)
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["GrayRelease:Lane"] = lane });
        }

        // gRPC needs HTTP/2; on cleartext Kestrel speaks it only on an HTTP/2-only endpoint (prior knowledge).
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            listen.Use(next => connection =>
            {
                state.CountConnection();
                return next(connection);
            });
        }));

        // The channel's subchannel lifecycle (created with an address, state changes, shutdown), for the scenarios; not
        // the whole Balancer namespace, whose connection manager logs every pick at Debug.
        builder.Logging.AddFilter("Grpc.Net.Client.Balancer.Subchannel", LogLevel.Debug);
    }

    private static void AddUserClient(IServiceCollection services, RetryPolicy? retry)
    {
        var client = services.AddGrpcClient<UserHop.UserHopClient>(o => o.Address = new Uri("nacos://user-app")).AddGrayReleaseGrpc();
        if (retry is not null)
        {
            client.ConfigureChannel(channel => channel.ServiceConfig = new ServiceConfig
            {
                MethodConfigs = { new MethodConfig { Names = { MethodName.Default }, RetryPolicy = retry } },
            });
        }
    }

    /// <summary>This instance's answer for its own hop.</summary>
    internal static Hop Here(GrayReleaseOptions options, ServerCallContext context) => new()
    {
        Version = options.Version ?? "none",
        Lane = options.Lane ?? string.Empty,
        Port = context.GetHttpContext().Connection.LocalPort,
        Status = GrayContext.Current?.ToWireValue() ?? string.Empty,
        ContextLane = GrayContext.CurrentLane ?? string.Empty,
    };
}

/// <summary>What one gRPC host counted: calls its service began to handle, TCP connections Kestrel accepted.</summary>
internal sealed class GrpcHostState
{
    private int _calls;
    private int _connections;

    public int Calls => Volatile.Read(ref _calls);

    public int Connections => Volatile.Read(ref _connections);

    public void CountCall() => Interlocked.Increment(ref _calls);

    public void CountConnection() => Interlocked.Increment(ref _connections);
}

internal sealed class UserHopService(IOptionsMonitor<GrayReleaseOptions> gray, GrpcHostState state) : UserHop.UserHopBase
{
    public override Task<Hop> Get(HopRequest request, ServerCallContext context)
    {
        state.CountCall();
        return Task.FromResult(GrpcHosts.Here(gray.CurrentValue, context));
    }
}

internal sealed class OrderHopService(UserHop.UserHopClient users, IOptionsMonitor<GrayReleaseOptions> gray, GrpcHostState state) : OrderHop.OrderHopBase
{
    public override async Task<Chain> Get(HopRequest request, ServerCallContext context)
    {
        state.CountCall();

        // No capture, no hand-written metadata: the tag the middleware read flows into this onward call.
        var user = await users.GetAsync(request, deadline: context.Deadline, cancellationToken: context.CancellationToken);
        return new Chain { Order = GrpcHosts.Here(gray.CurrentValue, context), User = user };
    }
}
