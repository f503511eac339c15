using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using GrayRelease.Discovery;
using GrayRelease.Grpc.Tests.Infrastructure;
using GrayRelease.Grpc.Tests.Protos;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GrayRelease.Grpc.Tests;

/// <summary>
/// Where a call goes is decided by the registry (as on the HttpClient path and the gateway), not by which connections
/// happen to be up: an instance of the call's lane or version that is registered but not connected (still connecting,
/// or dead before the registry noticed) never sends the call to the baseline or to a fallback version.
/// </summary>
public sealed class GrpcPickerReadinessTests
{
    private const string Service = "user-app";

    [Fact]
    public async Task A_lane_call_whose_lane_instance_is_registered_but_unreachable_never_goes_to_the_baseline()
    {
        await using var v1 = await EchoServer.StartAsync("v1");
        var provider = new TestInstanceProvider();
        provider.Set(Service, v1.Instance(), Dead("v1", lane: "blue"));
        await using var services = BuildClient(provider);
        var client = services.GetRequiredService<Echo.EchoClient>();
        using (GrayContext.Begin(GrayStatus.Prod))
        {
            Assert.Equal(v1.Port, (await client.WhoAsync(new WhoRequest(), deadline: Deadline())).Port);
        }

        using (GrayContext.BeginLane("blue"))
        {
            for (var i = 0; i < 5; i++)
            {
                // Before the fix: the route was resolved over the connected instances only, where "blue" has none, so
                // the permissive lane fell back to the baseline and the call was served by v1 (a cross-lane hop).
                var exception = await Assert.ThrowsAsync<RpcException>(async () => await client.WhoAsync(new WhoRequest(), deadline: Deadline()));
                Assert.Equal(StatusCode.Unavailable, exception.StatusCode);
            }
        }

        Assert.Equal(1, v1.Calls);
    }

    [Fact]
    public async Task A_gray_call_whose_v2_is_registered_but_unreachable_is_not_sent_to_the_fallback_version()
    {
        await using var v1 = await EchoServer.StartAsync("v1");
        var provider = new TestInstanceProvider();
        provider.Set(Service, v1.Instance(), Dead("v2"));
        await using var services = BuildClient(provider, new() { ["GrayRelease:NoInstancePolicy"] = "FallbackToProd" });
        var client = services.GetRequiredService<Echo.EchoClient>();
        using (GrayContext.Begin(GrayStatus.Prod))
        {
            Assert.Equal(v1.Port, (await client.WhoAsync(new WhoRequest(), deadline: Deadline())).Port);
        }

        using (GrayContext.Begin(GrayStatus.Gray))
        {
            for (var i = 0; i < 5; i++)
            {
                // FallbackToProd is for a version with no instance in the registry; v2 has one, which is unreachable.
                // Before the fix the fallback applied to "no connected v2" and the call was served by v1.
                var exception = await Assert.ThrowsAsync<RpcException>(async () => await client.WhoAsync(new WhoRequest(), deadline: Deadline()));
                Assert.Equal(StatusCode.Unavailable, exception.StatusCode);
            }
        }

        Assert.Equal(1, v1.Calls);
    }

    [Fact]
    public async Task With_no_v2_in_the_registry_FallbackToProd_still_applies()
    {
        await using var v1 = await EchoServer.StartAsync("v1");
        var provider = new TestInstanceProvider();
        provider.Set(Service, v1.Instance());
        await using var services = BuildClient(provider, new() { ["GrayRelease:NoInstancePolicy"] = "FallbackToProd" });
        var client = services.GetRequiredService<Echo.EchoClient>();

        using (GrayContext.Begin(GrayStatus.Gray))
        {
            Assert.Equal(v1.Port, (await client.WhoAsync(new WhoRequest(), deadline: Deadline())).Port);
        }
    }

    /// <summary>A registered instance at a loopback port nothing listens on: every connection attempt is refused.</summary>
    private static ServiceInstance Dead(string version, string? lane = null)
    {
        using var reserve = new TcpListener(IPAddress.Loopback, 0);
        reserve.Start();
        var port = ((IPEndPoint)reserve.LocalEndpoint).Port;
        reserve.Stop();
        var metadata = new Dictionary<string, string> { ["version"] = version };
        if (lane is not null)
        {
            metadata["lane"] = lane;
        }

        return new ServiceInstance { ServiceName = Service, Host = "127.0.0.1", Port = port, Weight = 1, Metadata = metadata };
    }

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(30);

    private static ServiceProvider BuildClient(IServiceInstanceProvider provider, Dictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["GrayRelease:ProdVersion"] = "v1",
            ["GrayRelease:GrayVersion"] = "v2",
        };
        foreach (var (key, value) in settings ?? [])
        {
            values[key] = value;
        }

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddGrayRelease(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        services.AddSingleton(provider);
        services.AddGrpcClient<Echo.EchoClient>(o => o.Address = new Uri($"nacos://{Service}")).AddGrayReleaseGrpc();
        return services.BuildServiceProvider();
    }
}
