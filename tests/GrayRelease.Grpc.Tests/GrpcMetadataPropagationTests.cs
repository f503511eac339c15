using Grpc.Core;
using GrayRelease.Discovery;
using GrayRelease.Grpc.Tests.Infrastructure;
using GrayRelease.Grpc.Tests.Protos;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GrayRelease.Grpc.Tests;

/// <summary>
/// How the gray client puts the call's status and lane on the wire (issue 15, item 1), kept when the metadata moved from
/// a gRPC interceptor to the HTTP propagation handler of the channel's handler chain (fewer bytes per call).
/// </summary>
public sealed class GrpcMetadataPropagationTests
{
    private const string Service = "user-app";

    [Fact]
    public async Task Header_names_configured_in_mixed_case_reach_the_server_over_http2()
    {
        // HTTP/2 requires lower-case field names (a gRPC metadata key is lower case too); configuration may not be.
        static void Names(GrayReleaseOptions options)
        {
            options.HeaderName = "X-Gray-Status";
            options.LaneHeaderName = "X-Gray-Lane";
        }

        await using var blue = await EchoServer.StartAsync("v2", lane: "blue", services: s => s.Configure<GrayReleaseOptions>(Names));
        var provider = new TestInstanceProvider();
        provider.Set(Service, blue.Instance());
        await using var services = BuildClient(provider, new Dictionary<string, string?>
        {
            ["GrayRelease:HeaderName"] = "X-Gray-Status",
            ["GrayRelease:LaneHeaderName"] = "X-Gray-Lane",
        });
        var client = services.GetRequiredService<Echo.EchoClient>();

        using (GrayContext.Begin(GrayStatus.Gray))
        using (GrayContext.BeginLane("blue"))
        {
            var reply = await client.WhoAsync(new WhoRequest(), deadline: Deadline());
            Assert.Equal(GrayStatus.Gray.ToWireValue(), reply.Status);
            Assert.Equal("blue", reply.ContextLane);
        }
    }

    [Fact]
    public async Task Metadata_the_caller_set_is_kept_not_replaced_or_doubled()
    {
        await using var v1 = await EchoServer.StartAsync("v1");
        await using var v2 = await EchoServer.StartAsync("v2");
        var provider = new TestInstanceProvider();
        provider.Set(Service, v1.Instance(), v2.Instance());
        await using var services = BuildClient(provider);
        var client = services.GetRequiredService<Echo.EchoClient>();
        var headers = new Metadata { { "gray", "PROD" }, { "gray-lane", "green" } };

        using (GrayContext.Begin(GrayStatus.Gray))
        {
            // The pick follows the context (GRAY → v2); the metadata are the caller's own: one value each, theirs.
            var reply = await client.WhoAsync(new WhoRequest(), headers, deadline: Deadline());
            Assert.Equal("v2", reply.Version);
            Assert.Equal(GrayStatus.Prod.ToWireValue(), reply.Status);
            Assert.Equal("green", reply.ContextLane);
        }

        // The caller's Metadata may be shared between calls: nothing was added to it.
        Assert.Equal(2, headers.Count);
    }

    [Fact]
    public async Task A_call_without_a_gray_context_carries_no_gray_metadata()
    {
        await using var v1 = await EchoServer.StartAsync("v1");
        var provider = new TestInstanceProvider();
        provider.Set(Service, v1.Instance());
        await using var services = BuildClient(provider);
        var client = services.GetRequiredService<Echo.EchoClient>();

        var reply = await client.WhoAsync(new WhoRequest(), deadline: Deadline());

        Assert.Equal("v1", reply.Version);
        Assert.Equal(string.Empty, reply.Status);
        Assert.Equal(string.Empty, reply.ContextLane);
    }

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(30);

    private static ServiceProvider BuildClient(IServiceInstanceProvider provider, IDictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["GrayRelease:ProdVersion"] = "v1",
            ["GrayRelease:GrayVersion"] = "v2",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
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
