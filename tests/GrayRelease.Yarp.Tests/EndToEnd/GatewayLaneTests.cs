using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using GrayRelease.Yarp.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace GrayRelease.Yarp.Tests.EndToEnd;

/// <summary>
/// Real gateway, real services, lanes: cluster <c>orders</c> has a baseline v1 (V1a) and v2 (V2a), a v1 in lane
/// <c>feature-a</c> (V1b) and a v2 in lane <c>feature-b</c> (V2b). Each backend echoes the gray and lane headers it got.
/// </summary>
public sealed class GatewayLaneTests(BackendsFixture backends) : IClassFixture<BackendsFixture>, IDisposable
{
    private const string LanesKey = "GrayRelease:Gateway:Lanes";
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));

    private CancellationToken Token => _timeout.Token;

    [Theory]
    [InlineData("header")]
    [InlineData("ip")]
    [InlineData("city")]
    [InlineData("user")]
    [InlineData("percentage")]
    public async Task Each_rule_kind_puts_a_request_in_its_lane_and_the_lane_goes_downstream(string kind)
    {
        await using var gateway = await StartAsync(c =>
        {
            c.Set("GrayRelease:Gateway:UserIdHeader", "X-User-Id").Set("GrayRelease:Gateway:Cities:Loopback:0", "127.0.0.0/8");
            _ = kind switch
            {
                "header" => c.Set($"{LanesKey}:feature-a:HeaderName", "x-lane").Set($"{LanesKey}:feature-a:HeaderValue", "a"),
                "ip" => c.Set($"{LanesKey}:feature-a:IpList:0", "127.0.0.0/8"),
                "city" => c.Set($"{LanesKey}:feature-a:CityList:0", "loopback"),
                "user" => c.Set($"{LanesKey}:feature-a:UserIdList:0", "dev-7"),
                _ => c.Set($"{LanesKey}:feature-a:Percentage", "100"),
            };
        });

        var reply = Reply.Parse(await gateway.GetAsync("/orders/1", Token, ("x-lane", "a"), ("X-User-Id", "dev-7")));

        Assert.Equal((200, backends.V1b.Port, "PROD", "feature-a"), (reply.Status, reply.Port, reply.Gray, reply.Lane));
        var decision = gateway.Services.GetRequiredService<GrayDecisionEngine>().Decide(Rules.RuleTestContext.Request("127.0.0.1", ("x-lane", "a"), ("X-User-Id", "dev-7")));
        Assert.Equal(("feature-a", kind), (decision.Lane, decision.LaneRule));
    }

    [Fact]
    public async Task Request_that_matches_no_lane_rule_stays_on_the_baseline_without_a_lane_header()
    {
        await using var gateway = await StartAsync(c => c
            .Set("GrayRelease:Gateway:UserIdHeader", "X-User-Id")
            .Set($"{LanesKey}:feature-a:HeaderName", "x-lane").Set($"{LanesKey}:feature-a:HeaderValue", "a")
            .Set($"{LanesKey}:feature-a:UserIdList:0", "dev-7"));

        for (var i = 0; i < 6; i++)
        {
            var reply = Reply.Parse(await gateway.GetAsync("/orders/1", Token, ("x-lane", "b"), ("X-User-Id", "dev-8")));
            Assert.Equal((200, backends.V1a.Port, "PROD", string.Empty), (reply.Status, reply.Port, reply.Gray, reply.Lane));
        }
    }

    [Fact]
    public async Task Lanes_are_tried_by_priority_lowest_first_and_the_first_match_wins()
    {
        await using var gateway = await StartAsync(c => c
            .Set($"{LanesKey}:feature-a:IpList:0", "127.0.0.0/8").Set($"{LanesKey}:feature-a:Priority", "20")
            .Set($"{LanesKey}:feature-b:IpList:0", "127.0.0.1").Set($"{LanesKey}:feature-b:Priority", "10"));

        var first = Reply.Parse(await gateway.GetAsync("/orders/1", Token));
        Assert.Equal((backends.V2b.Port, "feature-b"), (first.Port, first.Lane));

        gateway.Reconfigure(($"{LanesKey}:feature-a:Priority", "5"));
        var second = Reply.Parse(await gateway.GetAsync("/orders/1", Token));
        Assert.Equal((backends.V1b.Port, "feature-a"), (second.Port, second.Lane));

        // Equal priorities: ordinal order of the names, so every gateway instance agrees.
        gateway.Reconfigure(($"{LanesKey}:feature-a:Priority", "10"));
        var third = Reply.Parse(await gateway.GetAsync("/orders/1", Token));
        Assert.Equal((backends.V1b.Port, "feature-a"), (third.Port, third.Lane));
    }

    [Theory]
    [InlineData("feature-a")]
    [InlineData("feature-b")]
    [InlineData("no-such-lane")]
    public async Task Lane_header_sent_by_a_client_is_discarded(string spoofed)
    {
        await using var gateway = await StartAsync(c => c
            .Set($"{LanesKey}:feature-a:HeaderName", "x-lane").Set($"{LanesKey}:feature-a:HeaderValue", "a"));

        for (var i = 0; i < 4; i++)
        {
            var untouched = Reply.Parse(await gateway.GetAsync("/orders/1", Token, ("gray-lane", spoofed)));
            Assert.Equal((backends.V1a.Port, string.Empty), (untouched.Port, untouched.Lane));
        }

        // A request the rules put in a lane carries the gateway's lane, not the client's.
        var inLane = Reply.Parse(await gateway.GetAsync("/orders/1", Token, ("gray-lane", spoofed), ("x-lane", "a")));
        Assert.Equal((backends.V1b.Port, "feature-a"), (inLane.Port, inLane.Lane));
    }

    [Fact]
    public async Task Gray_decision_and_lane_are_independent_and_travel_together()
    {
        await using var gateway = await StartAsync(c => c
            .Set($"{LanesKey}:feature-b:HeaderName", "x-lane").Set($"{LanesKey}:feature-b:HeaderValue", "b"));

        var grayInLane = Reply.Parse(await gateway.GetAsync("/orders/1", Token, ("gray", "gray-996"), ("x-lane", "b")));
        var grayOnly = Reply.Parse(await gateway.GetAsync("/orders/1", Token, ("gray", "gray-996")));
        var prodInLane = Reply.Parse(await gateway.GetAsync("/orders/1", Token, ("x-lane", "b")));

        Assert.Equal((backends.V2b.Port, "GRAY", "feature-b"), (grayInLane.Port, grayInLane.Gray, grayInLane.Lane));
        Assert.Equal((backends.V2a.Port, "GRAY", string.Empty), (grayOnly.Port, grayOnly.Gray, grayOnly.Lane));

        // The lane's instances serve the lane whatever the status: PROD in lane feature-b reaches its v2 instance.
        Assert.Equal((backends.V2b.Port, "PROD", "feature-b"), (prodInLane.Port, prodInLane.Gray, prodInLane.Lane));
    }

    [Fact]
    public async Task Strict_lane_without_a_destination_gets_the_503_naming_service_and_lane()
    {
        await using var gateway = await StartAsync(c => c
            .Set("GrayRelease:Lanes:feature-c:Mode", "Strict")
            .Set($"{LanesKey}:feature-c:HeaderName", "x-lane").Set($"{LanesKey}:feature-c:HeaderValue", "c"));

        var (status, body) = await gateway.GetAsync("/orders/1", Token, ("x-lane", "c"));

        Assert.Equal(503, status);
        using var problem = JsonDocument.Parse(body);
        var root = problem.RootElement;
        Assert.Equal("orders", root.GetProperty("service").GetString());
        Assert.Equal("feature-c", root.GetProperty("lane").GetString());
        Assert.Contains("service 'orders' in strict lane 'feature-c'", root.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("lanes with instances: feature-a, feature-b", root.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // The same gateway still serves requests outside the lane.
        Assert.Equal(backends.V1a.Port, Reply.Parse(await gateway.GetAsync("/orders/1", Token)).Port);
    }

    [Fact]
    public async Task Permissive_lane_without_a_destination_falls_back_to_the_baseline_by_status_and_keeps_its_lane_header()
    {
        await using var gateway = await StartAsync(c => c
            .Set($"{LanesKey}:feature-c:HeaderName", "x-lane").Set($"{LanesKey}:feature-c:HeaderValue", "c"));

        var prod = Reply.Parse(await gateway.GetAsync("/orders/1", Token, ("x-lane", "c")));
        var gray = Reply.Parse(await gateway.GetAsync("/orders/1", Token, ("x-lane", "c"), ("gray", "gray-996")));

        Assert.Equal((backends.V1a.Port, "PROD", "feature-c"), (prod.Port, prod.Gray, prod.Lane));
        Assert.Equal((backends.V2a.Port, "GRAY", "feature-c"), (gray.Port, gray.Gray, gray.Lane));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Requests_without_a_lane_never_reach_a_lane_destination_whatever_their_status(bool gatewayEnabled)
    {
        await using var gateway = await StartAsync(c => c
            .Set("GrayRelease:Gateway:Enabled", gatewayEnabled ? "true" : "false")
            .Set($"{LanesKey}:feature-a:HeaderName", "x-lane").Set($"{LanesKey}:feature-a:HeaderValue", "a"));

        var ports = new HashSet<int>();
        for (var i = 0; i < 12; i++)
        {
            ports.Add(Reply.Parse(await gateway.GetAsync("/orders/1", Token)).Port);
            ports.Add(Reply.Parse(await gateway.GetAsync("/orders/1", Token, ("gray", "gray-996"))).Port);
        }

        // Switched off: every request is ALL (any version), still only of the baseline; on: PROD and GRAY.
        Assert.Equal(new HashSet<int> { backends.V1a.Port, backends.V2a.Port }, ports);
    }

    [Fact]
    public async Task Lane_that_serves_baseline_traffic_also_gets_requests_without_a_lane()
    {
        await using var gateway = await StartAsync(c => c.Set("GrayRelease:Lanes:feature-a:ServeBaselineTraffic", "true"));

        var ports = new HashSet<int>();
        for (var i = 0; i < 12; i++)
        {
            var reply = Reply.Parse(await gateway.GetAsync("/orders/1", Token));
            Assert.Equal(("v1", string.Empty), (reply.Version, reply.Lane));
            ports.Add(reply.Port);
        }

        Assert.Equal(new HashSet<int> { backends.V1a.Port, backends.V1b.Port }, ports);
    }

    [Fact]
    public async Task Live_reload_adds_and_removes_a_lane_without_restart()
    {
        var source = new MutableConfigurationSource();
        await using var gateway = await StartAsync(configureBuilder: b => ((IConfigurationBuilder)b.Configuration).Add(source));
        Assert.Equal(backends.V1a.Port, Reply.Parse(await gateway.GetAsync("/orders/1", Token, ("x-lane", "a"))).Port);

        source.Apply(($"{LanesKey}:feature-a:HeaderName", "x-lane"), ($"{LanesKey}:feature-a:HeaderValue", "a"));
        var added = Reply.Parse(await gateway.GetAsync("/orders/1", Token, ("x-lane", "a")));
        Assert.Equal((backends.V1b.Port, "feature-a"), (added.Port, added.Lane));
        Assert.Equal(["feature-a"], gateway.Services.GetRequiredService<GrayDecisionEngine>().Rules.Lanes.Select(l => l.Name));

        source.RemoveSection($"{LanesKey}:feature-a");
        var removed = Reply.Parse(await gateway.GetAsync("/orders/1", Token, ("x-lane", "a")));
        Assert.Equal((backends.V1a.Port, string.Empty), (removed.Port, removed.Lane));
        Assert.Empty(gateway.Services.GetRequiredService<GrayDecisionEngine>().Rules.Lanes);
    }

    [Theory]
    [InlineData("GrayRelease:Gateway:Lanes:feature-a:IpList:0", "10.0.0.1/64", "GrayRelease:Gateway:Lanes:feature-a:IpList:0")]
    [InlineData("GrayRelease:Gateway:Lanes:feature-a:Percentage", "120", "GrayRelease:Gateway:Lanes:feature-a:Percentage")]
    [InlineData("GrayRelease:Gateway:Lanes:feature a!:HeaderValue", "x", "GrayRelease:Gateway:Lanes:feature a!")]
    public async Task Invalid_reload_keeps_the_last_valid_lanes_and_logs_the_key(string key, string value, string namedKey)
    {
        var source = new MutableConfigurationSource();
        await using var gateway = await StartAsync(
            c => c.Set($"{LanesKey}:feature-a:HeaderName", "x-lane").Set($"{LanesKey}:feature-a:HeaderValue", "a"),
            configureBuilder: b =>
            {
                ((IConfigurationBuilder)b.Configuration).Add(source);
                b.Logging.AddFakeLogging();
            });

        source.Apply((key, value), ($"{LanesKey}:feature-a:HeaderValue", "changed"));

        var reply = Reply.Parse(await gateway.GetAsync("/orders/1", Token, ("x-lane", "a")));
        Assert.Equal((backends.V1b.Port, "feature-a"), (reply.Port, reply.Lane));
        Assert.Contains(gateway.Services.GetFakeLogCollector().GetSnapshot(), r => r.Level == LogLevel.Error && r.Message.Contains(namedKey, StringComparison.Ordinal));

        // A later valid change applies.
        source.Apply((key, null), ($"{LanesKey}:feature-a:HeaderValue", "a2"));
        Assert.Equal(backends.V1b.Port, Reply.Parse(await gateway.GetAsync("/orders/1", Token, ("x-lane", "a2"))).Port);
        Assert.Equal(backends.V1a.Port, Reply.Parse(await gateway.GetAsync("/orders/1", Token, ("x-lane", "a"))).Port);
    }

    [Fact]
    public async Task Lane_is_a_tag_of_the_decision_metric_the_activity_and_the_log_scope_and_never_the_clients_value()
    {
        var activityLanes = new ConcurrentQueue<object?>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
        };
        ActivitySource.AddActivityListener(listener);
        await using var gateway = await StartAsync(
            c => c.Set($"{LanesKey}:feature-a:HeaderName", "x-lane").Set($"{LanesKey}:feature-a:HeaderValue", "a")
                .Set("Logging:LogLevel:Yarp.ReverseProxy.Forwarder", "Information"),
            configureBuilder: b => b.Logging.AddFakeLogging(),
            configureApp: app => app.Use(async (context, next) =>
            {
                await next(context);
                activityLanes.Enqueue(Activity.Current?.GetTagItem("gray.lane"));
            }));
        using var decisions = new MetricCollector<long>(gateway.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "GrayRelease.Yarp", "grayrelease.gateway.decisions");

        await gateway.GetAsync("/orders/1", Token, ("x-lane", "a"));
        await gateway.GetAsync("/orders/1", Token, ("gray-lane", "client-chosen"));

        var measurements = decisions.GetMeasurementSnapshot();
        Assert.Equal(["feature-a", string.Empty], measurements.Select(m => m.Tags["lane"] as string));
        Assert.Equal(["feature-a", null], activityLanes.Select(t => t as string));
        Assert.DoesNotContain(measurements, m => m.Tags.Values.Contains("client-chosen"));

        var proxyLogs = gateway.Services.GetFakeLogCollector().GetSnapshot()
            .Where(r => r.Category?.StartsWith("Yarp.ReverseProxy.Forwarder", StringComparison.Ordinal) == true)
            .ToList();
        Assert.Contains(proxyLogs, r => r.Scopes.OfType<IEnumerable<KeyValuePair<string, object?>>>()
            .Any(s => s.Contains(new KeyValuePair<string, object?>("gray.lane", "feature-a"))));
    }

    public void Dispose() => _timeout.Dispose();

    private Task<GatewayHost> StartAsync(
        Action<GatewayConfig>? configure = null,
        Action<WebApplicationBuilder>? configureBuilder = null,
        Action<WebApplication>? configureApp = null)
    {
        var config = new GatewayConfig().Cluster("orders")
            .Destination("orders", backends.V1a).Destination("orders", backends.V2a)
            .Destination("orders", backends.V1b, "feature-a").Destination("orders", backends.V2b, "feature-b");
        configure?.Invoke(config);
        return GatewayHost.StartAsync(config, Token, configureBuilder: configureBuilder, configureApp: configureApp);
    }
}
