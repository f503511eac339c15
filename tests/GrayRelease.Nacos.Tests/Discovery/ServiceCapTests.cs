using GrayRelease.Nacos.Configuration;
using GrayRelease.Nacos.Discovery;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Nacos.Naming;
using GrayRelease.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace GrayRelease.Nacos.Tests.Discovery;

/// <summary>
/// <c>nacos:MaxServices</c> bounds the services a provider caches and keeps fresh (poll loops, gRPC subscriptions,
/// snapshots), whatever names callers look up (issue 16).
/// </summary>
public sealed class ServiceCapTests : DiscoveryProviderTestBase
{
    private const int Registered = 30;
    private const int Cap = 10;

    [Fact]
    public async Task Over_http_services_beyond_MaxServices_are_refused_with_a_clear_error_and_get_no_poll_loop()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2, CacheMillis = 60_000, PushEnabled = false });
        for (var i = 0; i < Registered; i++)
        {
            nacos.RegisterInstance($"svc-{i}", "127.0.0.1", 7201 + i, Version("V1"));
        }

        var options = TestSupport.Options(nacos);
        options.UdpPushEnabled = false;
        options.MaxServices = Cap;
        options.DefaultTimeOut = 10_000; // a loaded machine must not turn a slow answer into "unknown"
        var handler = new RecordingHandler();
        var provider = Provider(options, handler);
        var changed = new HashSet<string>(StringComparer.Ordinal);
        provider.InstancesChanged += (_, e) => { lock (changed) { changed.Add(e.ServiceName); } };

        var refused = new List<NacosException>();
        var admitted = 0;
        for (var i = 0; i < Registered; i++)
        {
            try
            {
                Assert.Single((await provider.GetInstancesAsync($"svc-{i}", cts.Token))!);
                admitted++;
            }
            catch (NacosException ex)
            {
                refused.Add(ex);
            }
        }

        Assert.Equal(Cap, admitted);
        Assert.Equal(Registered - Cap, refused.Count);
        Assert.All(refused, ex => Assert.Contains("nacos:MaxServices (10)", ex.Message, StringComparison.Ordinal));
        Assert.Equal(Cap, Enumerable.Range(0, Registered).Count(i => provider.IsPolled($"svc-{i}")));
        lock (changed)
        {
            Assert.Equal(Cap, changed.Count); // a refused list never reaches the load balancer (it would never be refreshed)
        }

        Assert.Single(Logs.GetSnapshot(), r => r.Level == LogLevel.Warning && r.Message.Contains("nacos:MaxServices", StringComparison.Ordinal));

        // A refused name is remembered like an unknown one: asked again after 10 s, not on every call.
        var calls = handler.Requests.Count;
        await Assert.ThrowsAsync<NacosException>(async () => await provider.GetInstancesAsync("svc-29", cts.Token));
        Assert.Equal(calls, handler.Requests.Count);
    }

    [Fact]
    public async Task Over_grpc_services_beyond_MaxServices_are_not_kept_subscribed()
    {
        using var cts = TestSupport.Timeout();
        var nacos = Track(await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos32, GrpcPushDelay = TimeSpan.FromMilliseconds(20) }, CancellationToken.None));
        for (var i = 0; i < Registered; i++)
        {
            nacos.RegisterInstance($"svc-{i}", "127.0.0.1", 7201 + i, Version("V1"));
        }

        var app = await StartAppAsync(nacos);
        var provider = app.Services.GetRequiredService<NacosServiceInstanceProvider>();
        var transport = (GrpcNamingTransport)await app.Services.GetRequiredService<NacosNamingTransportSelector>().GetAsync(cts.Token);
        var refused = 0;
        var answered = 0;
        for (var i = 0; i < Registered; i++)
        {
            try
            {
                if (await provider.GetInstancesAsync($"svc-{i}", cts.Token) is not null)
                {
                    answered++;
                }
            }
            catch (NacosException)
            {
                refused++;
            }
        }

        // On a loaded machine a lookup may time out (answered "unknown", asked again later): neither admitted nor refused,
        // and its subscription is kept for the next lookup. Without the cap: 30 answered, 0 refused, 30 subscribed.
        var failed = Registered - answered - refused;
        Assert.InRange(answered, 1, Cap);
        Assert.True(refused >= Registered - Cap - failed, $"answered {answered}, refused {refused}, failed {failed}");
        Assert.InRange(provider.KnownServiceCount, answered, Cap);
        await Eventually.WaitUntilAsync(() => transport.Subscriptions.Count <= Cap + failed, $"at most {Cap} services (+ {failed} failed lookups) stay subscribed (now {transport.Subscriptions.Count})");
    }

    private async Task<WebApplication> StartAppAsync(NacosEmulator nacos)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "order-app" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders().AddProvider(new FakeLoggerProvider(Logs)).SetMinimumLevel(LogLevel.Debug);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["nacos:ServerAddresses:0"] = nacos.ServerAddress,
            ["nacos:SnapshotPath"] = TestSupport.NewSnapshotPath(),
            ["nacos:DefaultTimeOut"] = "10000",
            ["nacos:DrainDelay"] = "00:00:00",
            ["nacos:RegisterEnabled"] = "false",
            ["nacos:MaxServices"] = Cap.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        builder.AddGrayRelease().AddNacos();
        var app = builder.Build();
        Track(app);
        await app.StartAsync();
        return app;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1_000_001)]
    public void MaxServices_out_of_range_fails_validation_naming_the_key(int max)
    {
        var options = new NacosOptions { ServerAddresses = ["http://127.0.0.1:8848"], MaxServices = max };
        var result = new NacosOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains($"nacos:MaxServices must be between 1 and 1000000 (services cached, subscribed and polled); got '{max}'", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_push_datagram_type_is_a_metric_tag_value_only_if_nacos_sends_it()
    {
        using var pushes = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(null, Diagnostics.NacosMetrics.MeterName, "grayrelease.nacos.push.received");
        foreach (var type in new[] { "dom", "service", "dump", "x-1", "x-2", "<script>", string.Empty })
        {
            Diagnostics.NacosMetrics.PushReceived(type);
        }

        // The meter is static: other tests' pushes may land here too, with the same bounded set of values.
        var values = pushes.GetMeasurementSnapshot().Select(m => (string)m.Tags["type"]!).ToHashSet();
        Assert.Subset(new HashSet<string> { "dom", "service", "dump", "(other)" }, values);
        Assert.Contains("(other)", values);
    }
}
