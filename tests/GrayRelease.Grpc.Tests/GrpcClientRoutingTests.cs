using Grpc.Core;
using Grpc.Net.Client.Configuration;
using GrayRelease.Discovery;
using GrayRelease.Grpc.Tests.Infrastructure;
using GrayRelease.Grpc.Tests.Protos;
using GrayRelease.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Grpc.Tests;

/// <summary>
/// Issue 15, item 1: <c>AddGrpcClient&lt;T&gt;(nacos://user-app).AddGrayReleaseGrpc()</c> carries the tag as metadata and
/// picks, per call, an instance of the wanted version or lane, over real HTTP/2 on loopback.
/// </summary>
public sealed class GrpcClientRoutingTests
{
    private const string Service = "user-app";

    [Fact]
    public async Task Gray_calls_reach_only_v2_and_prod_calls_only_v1()
    {
        await using var v1 = await EchoServer.StartAsync("v1");
        await using var v2 = await EchoServer.StartAsync("v2");
        var provider = new TestInstanceProvider();
        provider.Set(Service, v1.Instance(), v2.Instance());
        await using var services = BuildClient(provider);
        var client = services.GetRequiredService<Echo.EchoClient>();

        // Runs of one status, not alternating calls: alternation would match a plain round-robin over two instances.
        using (GrayContext.Begin(GrayStatus.Gray))
        {
            for (var i = 0; i < 20; i++)
            {
                var reply = await client.WhoAsync(new WhoRequest(), deadline: Deadline());
                Assert.Equal("v2", reply.Version);
                Assert.Equal(GrayStatus.Gray.ToWireValue(), reply.Status); // the status travelled as metadata
            }
        }

        using (GrayContext.Begin(GrayStatus.Prod))
        {
            for (var i = 0; i < 20; i++)
            {
                var reply = await client.WhoAsync(new WhoRequest(), deadline: Deadline());
                Assert.Equal("v1", reply.Version);
                Assert.Equal(GrayStatus.Prod.ToWireValue(), reply.Status);
            }
        }
    }

    [Fact]
    public async Task A_lane_call_reaches_the_lanes_instance_and_carries_the_lane()
    {
        await using var v1 = await EchoServer.StartAsync("v1");
        await using var blue = await EchoServer.StartAsync("v1", lane: "blue");
        var provider = new TestInstanceProvider();
        provider.Set(Service, v1.Instance(), blue.Instance());
        await using var services = BuildClient(provider);
        var client = services.GetRequiredService<Echo.EchoClient>();

        using (GrayContext.BeginLane("blue"))
        {
            for (var i = 0; i < 10; i++)
            {
                var reply = await client.WhoAsync(new WhoRequest(), deadline: Deadline());
                Assert.Equal("blue", reply.Lane);
                Assert.Equal("blue", reply.ContextLane);
            }
        }

        using (GrayContext.Begin(GrayStatus.Prod))
        {
            for (var i = 0; i < 10; i++)
            {
                var reply = await client.WhoAsync(new WhoRequest(), deadline: Deadline());
                Assert.Equal(string.Empty, reply.Lane);
            }
        }
    }

    [Fact]
    public async Task An_instance_removed_from_the_registry_stops_receiving_calls()
    {
        await using var v1 = await EchoServer.StartAsync("v1");
        await using var first = await EchoServer.StartAsync("v2");
        await using var second = await EchoServer.StartAsync("v2");
        var provider = new TestInstanceProvider();
        provider.Set(Service, v1.Instance(), first.Instance(), second.Instance());
        await using var services = BuildClient(provider);
        var client = services.GetRequiredService<Echo.EchoClient>();

        using (GrayContext.Begin(GrayStatus.Gray))
        {
            // Both v2 instances serve once both are connected.
            await Eventually.WaitUntilAsync(async () =>
            {
                var ports = new HashSet<int>();
                for (var i = 0; i < 10; i++)
                {
                    ports.Add((await client.WhoAsync(new WhoRequest(), deadline: Deadline())).Port);
                }

                return ports.SetEquals([first.Port, second.Port]);
            }, "both v2 instances serve");

            provider.Set(Service, v1.Instance(), first.Instance());

            // The push is applied asynchronously by the channel; once applied, the removed instance gets nothing more.
            await Eventually.WaitUntilAsync(async () => (await client.WhoAsync(new WhoRequest(), deadline: Deadline())).Port == first.Port
                && (await client.WhoAsync(new WhoRequest(), deadline: Deadline())).Port == first.Port, "only the instance left in the list is called");
            var before = second.Calls;
            for (var i = 0; i < 30; i++)
            {
                var reply = await client.WhoAsync(new WhoRequest(), deadline: Deadline());
                Assert.Equal(first.Port, reply.Port);
            }

            Assert.Equal(before, second.Calls);
        }

        Assert.Equal(0, v1.Calls);
    }

    [Fact]
    public async Task A_push_keeps_the_connections_of_instances_that_stay()
    {
        await using var v1 = await EchoServer.StartAsync("v1");
        await using var v2 = await EchoServer.StartAsync("v2");
        await using var another = await EchoServer.StartAsync("v1");
        var provider = new TestInstanceProvider();
        provider.Set(Service, v1.Instance(), v2.Instance());
        await using var services = BuildClient(provider);
        var client = services.GetRequiredService<Echo.EchoClient>();
        // Both instances have served a call, so both connections are established before counting.
        using (GrayContext.Begin(GrayStatus.Gray))
        {
            await client.WhoAsync(new WhoRequest(), deadline: Deadline());
        }

        using (GrayContext.Begin(GrayStatus.Prod))
        {
            await client.WhoAsync(new WhoRequest(), deadline: Deadline());
        }

        var connectionsBefore = (v1.Connections, v2.Connections);

        // Pushes that change the list around them (an instance added, a weight changed, a fresh object for each
        // instance) must not reconnect to the instances that stay.
        provider.Set(Service, v1.Instance(), v2.Instance(), another.Instance());
        provider.Set(Service, v1.Instance(weight: 2), v2.Instance(), another.Instance());
        using (GrayContext.Begin(GrayStatus.Prod))
        {
            await Eventually.WaitUntilAsync(async () => (await client.WhoAsync(new WhoRequest(), deadline: Deadline())).Port == another.Port, "prod calls reach the added instance");
        }

        using (GrayContext.Begin(GrayStatus.Gray))
        {
            for (var i = 0; i < 10; i++)
            {
                Assert.Equal(v2.Port, (await client.WhoAsync(new WhoRequest(), deadline: Deadline())).Port);
            }
        }

        Assert.Equal(connectionsBefore, (v1.Connections, v2.Connections));
    }

    [Fact]
    public async Task Retries_re_pick_within_the_wanted_version()
    {
        await using var v1 = await EchoServer.StartAsync("v1");
        await using var sick = await EchoServer.StartAsync("v2", failing: true);
        await using var healthy = await EchoServer.StartAsync("v2");
        var provider = new TestInstanceProvider();
        provider.Set(Service, v1.Instance(), sick.Instance(), healthy.Instance());
        await using var services = BuildClient(provider, retry: true);
        var client = services.GetRequiredService<Echo.EchoClient>();

        using (GrayContext.Begin(GrayStatus.Gray))
        {
            for (var i = 0; i < 20; i++)
            {
                var reply = await client.WhoAsync(new WhoRequest(), deadline: Deadline());
                Assert.Equal(healthy.Port, reply.Port);
            }
        }

        Assert.True(sick.Calls > 0, "the sick v2 instance was never tried: the test proves nothing");
        Assert.Equal(0, v1.Calls);
    }

    [Fact]
    public async Task A_gray_call_with_no_v2_instance_fails_with_unavailable_instead_of_reaching_v1()
    {
        await using var v1 = await EchoServer.StartAsync("v1");
        var provider = new TestInstanceProvider();
        provider.Set(Service, v1.Instance());
        await using var services = BuildClient(provider);
        var client = services.GetRequiredService<Echo.EchoClient>();

        using (GrayContext.Begin(GrayStatus.Gray))
        {
            var exception = await Assert.ThrowsAsync<RpcException>(async () => await client.WhoAsync(new WhoRequest(), deadline: Deadline()));
            Assert.Equal(StatusCode.Unavailable, exception.StatusCode);
            Assert.Contains("v2", exception.Status.Detail, StringComparison.Ordinal);
        }

        Assert.Equal(0, v1.Calls);
    }

    [Fact]
    public async Task When_every_instance_of_the_wanted_version_is_unreachable_a_call_fails_fast_instead_of_waiting_for_its_deadline()
    {
        await using var v1 = await EchoServer.StartAsync("v1");
        var v2 = await EchoServer.StartAsync("v2");
        var provider = new TestInstanceProvider();
        provider.Set(Service, v1.Instance(), v2.Instance());
        await using var services = BuildClient(provider);
        var client = services.GetRequiredService<Echo.EchoClient>();
        using (GrayContext.Begin(GrayStatus.Gray))
        {
            Assert.Equal(v2.Port, (await client.WhoAsync(new WhoRequest(), deadline: Deadline())).Port);
        }

        // The instance dies; the registry has not noticed yet (its list still names it).
        await v2.DisposeAsync();

        using (GrayContext.Begin(GrayStatus.Gray))
        {
            // gRPC's rule for calls without wait-for-ready: a target in TRANSIENT_FAILURE fails the call at once. A call
            // made before the client saw the connection close may fail on it (INTERNAL / UNAVAILABLE); none may wait
            // for its deadline, none may reach v1, and once the failure is seen the picker answers UNAVAILABLE itself.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (true)
            {
                var exception = await Assert.ThrowsAsync<RpcException>(async () => await client.WhoAsync(new WhoRequest(), deadline: DateTime.UtcNow.AddSeconds(20)));
                Assert.NotEqual(StatusCode.DeadlineExceeded, exception.StatusCode);
                if (exception.StatusCode == StatusCode.Unavailable && exception.Status.Detail.Contains("failing to connect", StringComparison.Ordinal))
                {
                    break;
                }

                Assert.False(timeout.IsCancellationRequested, $"the picker never answered UNAVAILABLE itself; last: {exception.Status}");
            }
        }

        Assert.Equal(0, v1.Calls);
    }

    [Fact]
    public void An_address_without_the_nacos_scheme_is_refused_with_a_clear_message()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddGrpcClient<Echo.EchoClient>(o => o.Address = new Uri("http://user-app")).AddGrayReleaseGrpc();
        using var provider = services.BuildServiceProvider();

        var exception = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<Echo.EchoClient>());
        Assert.Contains("nacos://", exception.Message, StringComparison.Ordinal);
    }

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(30);

    private static ServiceProvider BuildClient(IServiceInstanceProvider provider, bool retry = false)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["GrayRelease:ProdVersion"] = "v1",
            ["GrayRelease:GrayVersion"] = "v2",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging(l => { if (Environment.GetEnvironmentVariable("GRAYRELEASE_TEST_LOGS") == "1") { l.AddSimpleConsole(o => o.TimestampFormat = "ss.fff "); l.SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Trace); } });
        services.AddGrayRelease(configuration);
        services.AddSingleton(provider);
        var client = services.AddGrpcClient<Echo.EchoClient>(o => o.Address = new Uri($"nacos://{Service}")).AddGrayReleaseGrpc();
        if (retry)
        {
            client.ConfigureChannel(channel => channel.ServiceConfig = new ServiceConfig
            {
                MethodConfigs =
                {
                    new MethodConfig
                    {
                        Names = { MethodName.Default },
                        RetryPolicy = new RetryPolicy
                        {
                            MaxAttempts = 5,
                            InitialBackoff = TimeSpan.FromMilliseconds(10),
                            MaxBackoff = TimeSpan.FromMilliseconds(50),
                            BackoffMultiplier = 1.5,
                            RetryableStatusCodes = { StatusCode.Unavailable },
                        },
                    },
                },
            });
        }

        return services.BuildServiceProvider();
    }
}
