using Grpc.Core;
using Grpc.Net.Client;
using GrayRelease.Grpc.Tests.Infrastructure;
using GrayRelease.Grpc.Tests.Protos;
using Microsoft.Extensions.DependencyInjection;

namespace GrayRelease.Grpc.Tests;

/// <summary>
/// Issue 15, item 2: gRPC metadata are HTTP/2 headers, so the existing inbound middleware (<c>app.UseGrayRelease()</c>)
/// already reads them into <see cref="GrayContext"/> for the call; no server interceptor is needed.
/// </summary>
public sealed class ServerContextTests
{
    [Fact]
    public async Task Middleware_puts_the_calls_gray_metadata_into_GrayContext()
    {
        await using var server = await EchoServer.StartAsync("v1");
        using var channel = GrpcChannel.ForAddress(server.Address);
        var client = new Echo.EchoClient(channel);

        var tagged = await client.WhoAsync(new WhoRequest(), new Metadata { { "gray", "gray" }, { "gray-lane", "blue" } }, deadline: DateTime.UtcNow.AddSeconds(30));
        var untagged = await client.WhoAsync(new WhoRequest(), deadline: DateTime.UtcNow.AddSeconds(30));

        Assert.Equal(GrayStatus.Gray.ToWireValue(), tagged.Status);
        Assert.Equal("blue", tagged.ContextLane);
        Assert.Equal(string.Empty, untagged.Status);
        Assert.Equal(string.Empty, untagged.ContextLane);
    }

    [Fact]
    public async Task Malformed_gray_metadata_is_ignored_not_a_failure()
    {
        await using var server = await EchoServer.StartAsync("v1");
        using var channel = GrpcChannel.ForAddress(server.Address);
        var client = new Echo.EchoClient(channel);

        var reply = await client.WhoAsync(new WhoRequest(), new Metadata { { "gray", "not-a-status" }, { "gray-lane", "bad lane!" } }, deadline: DateTime.UtcNow.AddSeconds(30));

        Assert.Equal(string.Empty, reply.Status);
        Assert.Equal(string.Empty, reply.ContextLane);
    }

    [Fact]
    public async Task Calls_made_onward_from_a_grpc_call_carry_its_tag_and_lane()
    {
        await using var v1 = await EchoServer.StartAsync("v1");
        await using var v2 = await EchoServer.StartAsync("v2");
        await using var blue = await EchoServer.StartAsync("v1", lane: "blue");
        var registry = new TestInstanceProvider();
        registry.Set("user-app", v1.Instance(), v2.Instance(), blue.Instance());
        await using var front = await EchoServer.StartAsync("v1", services: services =>
        {
            services.AddSingleton<GrayRelease.Discovery.IServiceInstanceProvider>(registry);
            services.AddGrpcClient<Echo.EchoClient>(o => o.Address = new Uri("nacos://user-app")).AddGrayReleaseGrpc();
        });
        using var channel = GrpcChannel.ForAddress(front.Address);
        var client = new Echo.EchoClient(channel);

        for (var i = 0; i < 10; i++)
        {
            var gray = await client.RelayAsync(new WhoRequest(), new Metadata { { "gray", "gray" } }, deadline: DateTime.UtcNow.AddSeconds(30));
            Assert.Equal("v2", gray.Version);
            Assert.Equal(GrayStatus.Gray.ToWireValue(), gray.Status);

            var lane = await client.RelayAsync(new WhoRequest(), new Metadata { { "gray-lane", "blue" } }, deadline: DateTime.UtcNow.AddSeconds(30));
            Assert.Equal("blue", lane.Lane);
            Assert.Equal("blue", lane.ContextLane);
        }
    }
}
