using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using GrayRelease.Grpc.Tests.Infrastructure;
using GrayRelease.Grpc.Tests.Protos;
using GrayRelease.Propagation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

namespace GrayRelease.Grpc.Tests;

/// <summary>
/// Issue 15, item 4 over gRPC: with <c>GrayRelease:Propagation</c> Baggage or Both the status and lane travel as members of
/// the <c>baggage</c> metadata, merged into one entry with the others, over two real HTTP/2 hops, with an ActivityListener
/// present (so HttpClient's DiagnosticsHandler under Grpc.Net.Client would inject the Activity's baggage as well).
/// </summary>
public sealed class GrpcBaggageTests : IDisposable
{
    private readonly ActivityListener _listener = new()
    {
        ShouldListenTo = source => source.Name is "Microsoft.AspNetCore" or "System.Net.Http",
        Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
    };

    public GrpcBaggageTests() => ActivitySource.AddActivityListener(_listener);

    public void Dispose() => _listener.Dispose();

    [Theory]
    [InlineData(GrayPropagation.Header)]
    [InlineData(GrayPropagation.Baggage)]
    [InlineData(GrayPropagation.Both)]
    public async Task Each_mode_carries_status_and_lane_over_two_grpc_hops_in_its_own_carrier(GrayPropagation mode)
    {
        var seenByUsers = new ConcurrentQueue<StringValues>();
        await using var v1 = await EchoServer.StartAsync("v1", services: Mode(mode, seenByUsers));
        await using var v2 = await EchoServer.StartAsync("v2", services: Mode(mode, seenByUsers));
        var registry = new TestInstanceProvider();
        registry.Set("user-app", v1.Instance(), v2.Instance());
        await using var front = await EchoServer.StartAsync("v1", services: services =>
        {
            Mode(mode, new ConcurrentQueue<StringValues>())(services);
            services.AddSingleton<GrayRelease.Discovery.IServiceInstanceProvider>(registry);
            services.AddGrpcClient<Echo.EchoClient>(o => o.Address = new Uri("nacos://user-app")).AddGrayReleaseGrpc();
        });
        using var channel = GrpcChannel.ForAddress(front.Address);
        var client = new Echo.EchoClient(channel);

        for (var i = 0; i < 6; i++)
        {
            var metadata = new Metadata();
            if (mode != GrayPropagation.Baggage)
            {
                metadata.Add("gray", "GRAY");
                metadata.Add("gray-lane", "blue");
            }

            if (mode != GrayPropagation.Header)
            {
                metadata.Add("baggage", "tenant=acme,gray.status=GRAY,gray.lane=blue");
            }

            var reply = await client.RelayAsync(new WhoRequest(), metadata, deadline: DateTime.UtcNow.AddSeconds(30));

            Assert.Equal(("v2", "GRAY", "blue"), (reply.Version, reply.Status, reply.ContextLane));
            Assert.True(seenByUsers.TryDequeue(out var baggage));
            var parsed = W3CBaggage.Parse(baggage);
            if (mode == GrayPropagation.Header)
            {
                Assert.Equal(-1, parsed.IndexOf("gray.status"));
                continue;
            }

            // One entry, each member once: ours, merged with the Activity's that DiagnosticsHandler would have injected.
            Assert.Single(baggage);
            Assert.Equal(1, parsed.CountOf("gray.status"));
            Assert.Equal("GRAY", parsed.Members[parsed.IndexOf("gray.status")].Value);
            Assert.Equal("blue", parsed.Members[parsed.IndexOf("gray.lane")].Value);
            Assert.Equal(1, parsed.CountOf("tenant"));
        }
    }

    [Fact]
    public async Task A_calls_own_baggage_metadata_is_merged_with_the_gray_members_not_duplicated()
    {
        var seen = new ConcurrentQueue<StringValues>();
        await using var v2 = await EchoServer.StartAsync("v2", services: Mode(GrayPropagation.Baggage, seen));
        var registry = new TestInstanceProvider();
        registry.Set("user-app", v2.Instance());
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddGrayRelease(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["GrayRelease:Propagation"] = "Baggage",
            ["GrayRelease:ProdVersion"] = "v1",
            ["GrayRelease:GrayVersion"] = "v2",
        }).Build());
        services.AddSingleton<GrayRelease.Discovery.IServiceInstanceProvider>(registry);
        services.AddGrpcClient<Echo.EchoClient>(o => o.Address = new Uri("nacos://user-app")).AddGrayReleaseGrpc();
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<Echo.EchoClient>();

        using (GrayContext.Begin(GrayStatus.Gray))
        {
            var reply = await client.WhoAsync(new WhoRequest(), new Metadata { { "baggage", "session=42;ttl=3" } }, deadline: DateTime.UtcNow.AddSeconds(30));
            Assert.Equal(("v2", "GRAY"), (reply.Version, reply.Status));
        }

        Assert.True(seen.TryDequeue(out var baggage));
        Assert.Single(baggage);
        var parsed = W3CBaggage.Parse(baggage);
        Assert.Equal(["gray.status", "session"], parsed.Members.Select(m => m.Key));
        Assert.Contains("session=42;ttl=3", baggage[0], StringComparison.Ordinal);
    }

    private static Action<IServiceCollection> Mode(GrayPropagation mode, ConcurrentQueue<StringValues> seen) => services =>
    {
        services.Configure<GrayReleaseOptions>(options => options.Propagation = mode);
        services.AddSingleton<IStartupFilter>(new RecordBaggage(seen));
    };

    /// <summary>Records the raw <c>baggage</c> header of every call, before the gray middleware reads it.</summary>
    private sealed class RecordBaggage(ConcurrentQueue<StringValues> seen) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                seen.Enqueue(context.Request.Headers["baggage"]);
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
