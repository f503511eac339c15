using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using GrayRelease.Yarp.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace GrayRelease.Yarp.Tests.EndToEnd;

/// <summary>Real gateway, real services: what the gateway decides, what it sends downstream, and what it leaves behind.</summary>
public sealed class GatewayDecisionTests(BackendsFixture backends) : IClassFixture<BackendsFixture>, IDisposable
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));

    private CancellationToken Token => _timeout.Token;

    [Theory]
    [InlineData("GRAY")]
    [InlineData("gray")]
    [InlineData("ALL")]
    public async Task Gray_header_sent_by_a_client_is_replaced_by_the_gateway_decision(string spoofed)
    {
        await using var gateway = await StartAsync();

        var reply = Reply.Parse(await gateway.GetAsync("/orders/1", Token, ("gray", spoofed)));

        Assert.Equal(("v1", "PROD"), (reply.Version, reply.Gray));
    }

    [Fact]
    public async Task Switch_off_sends_ALL_downstream_and_any_version_answers()
    {
        await using var gateway = await StartAsync(c => c.Set("GrayRelease:Gateway:Enabled", "false"));

        var versions = new HashSet<string>();
        for (var i = 0; i < 10; i++)
        {
            var reply = Reply.Parse(await gateway.GetAsync("/orders/1", Token, ("gray", "gray-996")));
            Assert.Equal("ALL", reply.Gray);
            versions.Add(reply.Version);
        }

        Assert.Equal(new HashSet<string> { "v1", "v2" }, versions);
    }

    [Fact]
    public async Task Switch_and_rules_reload_live_without_restart()
    {
        await using var gateway = await StartAsync(c => c.Set("GrayRelease:Gateway:Enabled", "false"));
        Assert.Equal("ALL", Reply.Parse(await gateway.GetAsync("/orders/1", Token)).Gray);

        gateway.Reconfigure(("GrayRelease:Gateway:Enabled", "true"));
        Assert.Equal(("v1", "PROD"), Select(Reply.Parse(await gateway.GetAsync("/orders/1", Token))));

        gateway.Reconfigure(("GrayRelease:Gateway:IpList:0", "127.0.0.0/8"));
        Assert.Equal(("v2", "GRAY"), Select(Reply.Parse(await gateway.GetAsync("/orders/1", Token))));

        gateway.Reconfigure(("GrayRelease:GrayVersion", "v1"));
        Assert.Equal(("v1", "GRAY"), Select(Reply.Parse(await gateway.GetAsync("/orders/1", Token))));
    }

    [Fact]
    public async Task Forwarded_client_address_counts_only_behind_a_trusted_proxy()
    {
        await using var untrusted = await StartAsync(c => c.Set("GrayRelease:Gateway:IpList:0", "198.51.100.7"));
        await using var trusted = await StartAsync(c => c.Set("GrayRelease:Gateway:IpList:0", "198.51.100.7").Set("GrayRelease:Gateway:TrustedProxies:0", "127.0.0.1"));

        Assert.Equal("PROD", Reply.Parse(await untrusted.GetAsync("/orders/1", Token, ("X-Forwarded-For", "198.51.100.7"))).Gray);
        Assert.Equal("GRAY", Reply.Parse(await trusted.GetAsync("/orders/1", Token, ("X-Forwarded-For", "198.51.100.7"))).Gray);
        Assert.Equal("PROD", Reply.Parse(await trusted.GetAsync("/orders/1", Token, ("X-Forwarded-For", "198.51.100.8"))).Gray);
    }

    [Fact]
    public async Task Behind_a_proxy_that_sets_only_X_Real_IP_the_client_cannot_choose_its_address_with_X_Forwarded_For()
    {
        await using var gateway = await StartAsync(c => c
            .Set("GrayRelease:Gateway:IpList:0", "198.51.100.7")
            .Set("GrayRelease:Gateway:TrustedProxies:0", "127.0.0.1")
            .Set("GrayRelease:Gateway:ClientAddressHeaders", "X-Real-IP"));

        // The proxy sets X-Real-IP to the address it saw and passes the client's own X-Forwarded-For unchanged.
        Assert.Equal("PROD", Reply.Parse(await gateway.GetAsync("/orders/1", Token, ("X-Forwarded-For", "198.51.100.7"), ("X-Real-IP", "203.0.113.9"))).Gray);
        Assert.Equal("GRAY", Reply.Parse(await gateway.GetAsync("/orders/1", Token, ("X-Forwarded-For", "203.0.113.9"), ("X-Real-IP", "198.51.100.7"))).Gray);
    }

    [Fact]
    public async Task Custom_rule_that_throws_counts_as_no_match_is_logged_without_flooding_and_the_request_goes_on()
    {
        await using var gateway = await StartAsync(configureBuilder: b =>
        {
            b.Logging.AddFakeLogging();
            b.Services.AddSingleton<IGrayRule>(new ThrowingRule());
            b.Services.AddSingleton<IGrayRule>(new CanaryHeaderRule());
        });

        for (var i = 0; i < 5; i++)
        {
            var (status, body) = await gateway.GetAsync("/orders/1", Token);
            Assert.Equal(200, status);
            Assert.Equal(("v1", "PROD"), Select(Reply.Parse((status, body))));
        }

        // The rule after the failing one is still evaluated.
        Assert.Equal(("v2", "GRAY"), Select(Reply.Parse(await gateway.GetAsync("/orders/1", Token, ("x-canary", "yes")))));

        var warnings = gateway.Services.GetFakeLogCollector().GetSnapshot().Where(r => r.Id.Id == EventIds.GrayRuleFailed).ToList();
        var warning = Assert.Single(warnings);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("'broken'", warning.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(warning.Exception);
    }

    [Fact]
    public async Task Downstream_failures_return_502_and_504_and_leave_no_gray_context_behind()
    {
        var deadPort = GetClosedPort();
        await using var gateway = await StartAsync(c => c
            .Cluster("dead").Destination("dead", "d1", new Uri($"http://127.0.0.1:{deadPort}"), "v2")
            .Cluster("slow").Destination("slow", backends.V2a)
            .Set("ReverseProxy:Clusters:slow:HttpRequest:ActivityTimeout", "00:00:00.300"));

        var (badGateway, _) = await gateway.GetAsync("/dead/1", Token, ("gray", "gray-996"));
        var (timeout, _) = await gateway.GetAsync("/slow/hang", Token, ("gray", "gray-996"));
        var (unavailable, _) = await gateway.GetAsync("/slow/1", Token);
        var after = Reply.Parse(await gateway.GetAsync("/orders/1", Token));

        Assert.Equal((502, 504, 503), (badGateway, timeout, unavailable));
        Assert.Equal(("v1", "PROD"), (after.Version, after.Gray));
        Assert.Null(GrayContext.Current);
        Assert.Equal(4, gateway.ContextAtEntry.Count);
        Assert.All(gateway.ContextAtEntry, status => Assert.Null(status));
    }

    [Fact]
    public async Task Gray_context_never_leaks_into_the_next_request_on_the_same_connection()
    {
        await using var gateway = await StartAsync();

        for (var i = 0; i < 20; i++)
        {
            var headers = i % 2 == 0 ? new[] { ("gray", "gray-996") } : [];
            await gateway.GetAsync("/orders/1", Token, headers);
        }

        Assert.Equal(20, gateway.ContextAtEntry.Count);
        Assert.All(gateway.ContextAtEntry, status => Assert.Null(status));
    }

    [Fact]
    public async Task Decision_and_rule_are_counted_tagged_on_the_activity_and_put_in_the_log_scope()
    {
        var activityTags = new ConcurrentQueue<(object? Status, object? Rule)>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
        };
        ActivitySource.AddActivityListener(listener);
        await using var gateway = await StartAsync(
            c => c.Set("Logging:LogLevel:Yarp.ReverseProxy.Forwarder", "Information"),
            configureBuilder: b => b.Logging.AddFakeLogging(),
            configureApp: app => app.Use(async (context, next) =>
            {
                await next(context);
                activityTags.Enqueue((Activity.Current?.GetTagItem("grayrelease.status"), Activity.Current?.GetTagItem("grayrelease.rule")));
            }));
        using var decisions = new MetricCollector<long>(gateway.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "GrayRelease.Yarp", "grayrelease.gateway.decisions");

        await gateway.GetAsync("/orders/1", Token, ("gray", "gray-996"));
        await gateway.GetAsync("/orders/1", Token);
        await gateway.GetAsync("/orders/1", Token);

        var measurements = decisions.GetMeasurementSnapshot();
        Assert.Equal(1, measurements.Count(m => m.Tags["status"] as string == "GRAY" && m.Tags["rule"] as string == "header"));
        Assert.Equal(2, measurements.Count(m => m.Tags["status"] as string == "PROD" && m.Tags["rule"] as string == "none"));
        Assert.Equal([("GRAY", "header"), ("PROD", "none"), ("PROD", "none")], activityTags.Select(t => ((string?)t.Status, (string?)t.Rule)));

        var proxyLogs = gateway.Services.GetFakeLogCollector().GetSnapshot()
            .Where(r => r.Category?.StartsWith("Yarp.ReverseProxy.Forwarder", StringComparison.Ordinal) == true)
            .ToList();
        Assert.NotEmpty(proxyLogs);
        Assert.Contains(proxyLogs, r => r.Scopes.OfType<IEnumerable<KeyValuePair<string, object?>>>()
            .Any(s => s.Contains(new KeyValuePair<string, object?>("grayrelease.status", "GRAY")) && s.Contains(new KeyValuePair<string, object?>("grayrelease.rule", "header"))));
    }

    [Fact]
    public async Task Decision_made_by_UseGrayGateway_is_not_made_again_in_the_proxy_pipeline()
    {
        await using var gateway = await StartAsync(configureApp: app => app.UseGrayGateway());
        using var decisions = new MetricCollector<long>(gateway.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "GrayRelease.Yarp", "grayrelease.gateway.decisions");

        var reply = Reply.Parse(await gateway.GetAsync("/orders/1", Token, ("gray", "gray-996")));

        Assert.Equal(("v2", "GRAY"), (reply.Version, reply.Gray));
        Assert.Single(decisions.GetMeasurementSnapshot());
    }

    public void Dispose() => _timeout.Dispose();

    private sealed class ThrowingRule : IGrayRule
    {
        public string Name => "broken";

        public bool IsGray(in GrayRuleContext context) => throw new InvalidOperationException("rule bug");
    }

    private sealed class CanaryHeaderRule : IGrayRule
    {
        public string Name => "canary";

        public bool IsGray(in GrayRuleContext context) => context.HttpContext.Request.Headers["x-canary"] == "yes";
    }

    private static (string, string) Select(Reply reply) => (reply.Version, reply.Gray);

    private Task<GatewayHost> StartAsync(
        Action<GatewayConfig>? configure = null,
        Action<WebApplicationBuilder>? configureBuilder = null,
        Action<WebApplication>? configureApp = null)
    {
        var config = new GatewayConfig().Cluster("orders")
            .Destination("orders", backends.V1a).Destination("orders", backends.V1b)
            .Destination("orders", backends.V2a).Destination("orders", backends.V2b);
        configure?.Invoke(config);
        return GatewayHost.StartAsync(config, Token, configureBuilder: configureBuilder, configureApp: configureApp);
    }

    private static int GetClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
