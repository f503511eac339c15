using System.Text.Json;
using GrayRelease.Yarp.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Configuration;
using static GrayRelease.Yarp.Tests.Infrastructure.TestInstanceProvider;

namespace GrayRelease.Yarp.Tests.EndToEnd;

/// <summary>Real gateway, real services: which version each request reaches.</summary>
public sealed class GatewayRoutingTests(BackendsFixture backends) : IClassFixture<BackendsFixture>, IDisposable
{
    private static readonly (string, string) GrayHeader = ("gray", "gray-996");
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));

    private CancellationToken Token => _timeout.Token;

    [Fact]
    public async Task Gray_and_prod_requests_reach_only_their_version_on_static_destinations()
    {
        var config = new GatewayConfig().Cluster("orders")
            .Destination("orders", backends.V1a).Destination("orders", backends.V1b)
            .Destination("orders", backends.V2a).Destination("orders", backends.V2b);
        await using var gateway = await GatewayHost.StartAsync(config, Token);

        var grayPorts = new HashSet<int>();
        var prodPorts = new HashSet<int>();
        for (var i = 0; i < 20; i++)
        {
            var gray = Reply.Parse(await gateway.GetAsync("/orders/1", Token, GrayHeader));
            var prod = Reply.Parse(await gateway.GetAsync("/orders/1", Token));
            Assert.Equal((200, "v2", "GRAY"), (gray.Status, gray.Version, gray.Gray));
            Assert.Equal((200, "v1", "PROD"), (prod.Status, prod.Version, prod.Gray));
            grayPorts.Add(gray.Port);
            prodPorts.Add(prod.Port);
        }

        // Round-robin within each version: both instances of each version served.
        Assert.Equal(new HashSet<int> { backends.V2a.Port, backends.V2b.Port }, grayPorts);
        Assert.Equal(new HashSet<int> { backends.V1a.Port, backends.V1b.Port }, prodPorts);
    }

    [Theory]
    [InlineData(GrayReleaseProxy.RoundRobinPolicy)]
    [InlineData("PowerOfTwoChoices")]
    [InlineData(null)]
    public async Task One_destination_per_version_is_filtered_although_YARP_skips_the_policy(string? policy)
    {
        var config = new GatewayConfig().Cluster("orders", policy).Destination("orders", backends.V1a).Destination("orders", backends.V2a);
        await using var gateway = await GatewayHost.StartAsync(config, Token);

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal("v2", Reply.Parse(await gateway.GetAsync("/orders/1", Token, GrayHeader)).Version);
            Assert.Equal("v1", Reply.Parse(await gateway.GetAsync("/orders/1", Token)).Version);
        }
    }

    [Fact]
    public async Task Gray_request_to_a_cluster_with_only_a_prod_destination_gets_503_with_the_reason()
    {
        var config = new GatewayConfig().Cluster("orders").Destination("orders", backends.V1a);
        await using var gateway = await GatewayHost.StartAsync(config, Token);

        var (status, body) = await gateway.GetAsync("/orders/1", Token, GrayHeader);

        Assert.Equal(503, status);
        using var problem = JsonDocument.Parse(body);
        var root = problem.RootElement;
        Assert.Equal(503, root.GetProperty("status").GetInt32());
        Assert.Equal("orders", root.GetProperty("cluster").GetString());
        Assert.Equal("orders", root.GetProperty("service").GetString());
        Assert.Equal("GRAY", root.GetProperty("mode").GetString());
        Assert.Equal("v2", root.GetProperty("wantedVersion").GetString());
        Assert.Equal(["v1"], root.GetProperty("availableVersions").EnumerateArray().Select(v => v.GetString()));
        Assert.StartsWith("Cluster 'orders': No available instance of service 'orders' for mode GRAY", root.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("v1", Reply.Parse(await gateway.GetAsync("/orders/1", Token)).Version);
    }

    [Fact]
    public async Task Fallback_to_prod_sends_gray_requests_to_prod_when_no_gray_instance_exists()
    {
        var config = new GatewayConfig().Set("GrayRelease:NoInstancePolicy", "FallbackToProd").Cluster("orders").Destination("orders", backends.V1a);
        await using var gateway = await GatewayHost.StartAsync(config, Token);

        var reply = Reply.Parse(await gateway.GetAsync("/orders/1", Token, GrayHeader));

        Assert.Equal((200, "v1", "GRAY"), (reply.Status, reply.Version, reply.Gray));
    }

    [Fact]
    public async Task Registry_destinations_route_by_version_and_follow_registry_changes_without_restart()
    {
        var registry = new TestInstanceProvider();
        registry.SetInstances("order-app", Instance("order-app", backends.V1a), Instance("order-app", backends.V2a));
        using var applied = new ConfigAppliedSignal();
        var config = new GatewayConfig().Cluster("orders").RegistryDestination("orders", "order-app");
        await using var gateway = await GatewayHost.StartAsync(config, Token, registry, s => s.AddSingleton<IConfigChangeListener>(applied));

        Assert.Equal(backends.V2a.Port, Reply.Parse(await gateway.GetAsync("/orders/1", Token, GrayHeader)).Port);
        Assert.Equal(backends.V1a.Port, Reply.Parse(await gateway.GetAsync("/orders/1", Token)).Port);

        registry.SetInstances("order-app", Instance("order-app", backends.V1b), Instance("order-app", backends.V2b), Instance("order-app", backends.V2a, healthy: false));
        await applied.UntilAsync(async () => Reply.Parse(await gateway.GetAsync("/orders/1", Token)).Port == backends.V1b.Port, Token);

        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(backends.V2b.Port, Reply.Parse(await gateway.GetAsync("/orders/1", Token, GrayHeader)).Port);
            Assert.Equal(backends.V1b.Port, Reply.Parse(await gateway.GetAsync("/orders/1", Token)).Port);
        }
    }

    [Fact]
    public async Task Instances_listed_in_configuration_serve_as_the_registry_and_follow_its_reload()
    {
        using var applied = new ConfigAppliedSignal();
        var config = new GatewayConfig()
            .Set("GrayRelease:Instances:order-app:0:Address", backends.V1a.Address.ToString())
            .Set("GrayRelease:Instances:order-app:0:Version", "v1")
            .Set("GrayRelease:Instances:order-app:1:Address", backends.V2a.Address.ToString())
            .Set("GrayRelease:Instances:order-app:1:Version", "v2")
            .Cluster("orders").RegistryDestination("orders", "order-app");
        await using var gateway = await GatewayHost.StartAsync(config, Token, configureServices: s => s.AddSingleton<IConfigChangeListener>(applied));

        Assert.Equal(backends.V2a.Port, Reply.Parse(await gateway.GetAsync("/orders/1", Token, GrayHeader)).Port);
        Assert.Equal(backends.V1a.Port, Reply.Parse(await gateway.GetAsync("/orders/1", Token)).Port);

        gateway.Reconfigure(("GrayRelease:Instances:order-app:1:Address", backends.V2b.Address.ToString()));
        await applied.UntilAsync(async () => Reply.Parse(await gateway.GetAsync("/orders/1", Token, GrayHeader)).Port == backends.V2b.Port, Token);

        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(backends.V2b.Port, Reply.Parse(await gateway.GetAsync("/orders/1", Token, GrayHeader)).Port);
            Assert.Equal(backends.V1a.Port, Reply.Parse(await gateway.GetAsync("/orders/1", Token)).Port);
        }
    }

    [Fact]
    public async Task Registry_weights_shape_the_traffic_within_a_version()
    {
        var registry = new TestInstanceProvider();
        registry.SetInstances("order-app", Instance("order-app", backends.V1a, weight: 1), Instance("order-app", backends.V1b, weight: 3), Instance("order-app", backends.V2a));
        var config = new GatewayConfig().Cluster("orders").RegistryDestination("orders", "order-app");
        await using var gateway = await GatewayHost.StartAsync(config, Token, registry);

        var toV1a = 0;
        for (var i = 0; i < 400; i++)
        {
            var reply = Reply.Parse(await gateway.GetAsync("/orders/1", Token));
            Assert.Equal("v1", reply.Version);
            toV1a += reply.Port == backends.V1a.Port ? 1 : 0;
        }

        Assert.InRange(toV1a, 85, 115);
    }

    [Fact]
    public async Task Per_service_versions_apply_to_registry_clusters()
    {
        var registry = new TestInstanceProvider();
        registry.SetInstances("order-app", Instance("order-app", backends.V1a), Instance("order-app", backends.V2a));
        var config = new GatewayConfig()
            .Set("GrayRelease:Services:order-app:ProdVersion", "v2")
            .Set("GrayRelease:Services:order-app:GrayVersion", "v1")
            .Cluster("orders").RegistryDestination("orders", "order-app");
        await using var gateway = await GatewayHost.StartAsync(config, Token, registry);

        Assert.Equal("v1", Reply.Parse(await gateway.GetAsync("/orders/1", Token, GrayHeader)).Version);
        Assert.Equal("v2", Reply.Parse(await gateway.GetAsync("/orders/1", Token)).Version);
    }

    [Fact]
    public async Task Thousand_concurrent_mixed_requests_never_reach_the_wrong_version()
    {
        var registry = new TestInstanceProvider();
        registry.SetInstances("order-app", Instance("order-app", backends.V1a), Instance("order-app", backends.V1b), Instance("order-app", backends.V2a));
        var config = new GatewayConfig()
            .Set("GrayRelease:Gateway:UserIdHeader", "X-User-Id")
            .Set("GrayRelease:Gateway:UserIdList:0", "u-7")
            .Cluster("orders").Destination("orders", backends.V1a).Destination("orders", backends.V2a).Destination("orders", backends.V2b)
            .Cluster("users").RegistryDestination("users", "order-app");
        await using var gateway = await GatewayHost.StartAsync(config, Token, registry);

        var requests = Enumerable.Range(0, 1_000).Select(async i =>
        {
            var path = i % 2 == 0 ? "/orders/x" : "/users/x";
            var (gray, headers) = (i % 4) switch
            {
                0 => (true, new[] { GrayHeader }),
                1 => (true, new[] { ("X-User-Id", "u-7") }),
                2 => (false, new[] { ("gray", "GRAY") }),
                _ => (false, new[] { ("X-User-Id", "u-8") }),
            };
            var reply = Reply.Parse(await gateway.GetAsync(path, Token, headers));
            return (Expected: gray ? ("v2", "GRAY") : ("v1", "PROD"), Actual: (reply.Version, reply.Gray), reply.Status);
        });

        var results = await Task.WhenAll(requests);

        Assert.All(results, r => Assert.Equal(200, r.Status));
        var wrong = results.Count(r => r.Expected != r.Actual);
        Assert.Equal(0, wrong);
        Assert.Equal(500, results.Count(r => r.Actual.Item1 == "v2"));
    }

    public void Dispose() => _timeout.Dispose();
}
