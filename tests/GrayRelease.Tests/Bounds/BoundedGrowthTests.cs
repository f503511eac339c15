using System.Diagnostics.Metrics;
using GrayRelease.Diagnostics;
using GrayRelease.Discovery;
using GrayRelease.LoadBalancing;
using GrayRelease.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using static GrayRelease.Tests.Infrastructure.TestInstanceProvider;

namespace GrayRelease.Tests.Bounds;

/// <summary>What the load balancer and its metrics keep per name stays bounded, whatever host names callers send (issue 16).</summary>
public sealed class BoundedGrowthTests : IDisposable
{
    private const int Names = 10_000;

    private readonly TestInstanceProvider _provider = new(StringComparer.Ordinal);
    private readonly TestOptionsMonitor<GrayReleaseOptions> _options = new(new GrayReleaseOptions { ProdVersion = "V1", GrayVersion = "V2" });
    private readonly FakeTimeProvider _time = new();
    private readonly FakeLogger<GrayLoadBalancer> _logger = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private GrayLoadBalancer? _balancer;

    public void Dispose()
    {
        _balancer?.Dispose();
        _services.Dispose();
    }

    private GrayLoadBalancer Balancer() =>
        _balancer ??= new GrayLoadBalancer(_provider, _options, _time, new GrayReleaseMetrics(_services.GetRequiredService<IMeterFactory>()), _logger);

    [Fact]
    public async Task Ten_thousand_unknown_host_names_leave_at_most_the_default_cap_remembered_and_one_warning()
    {
        var balancer = Balancer();
        for (var i = 0; i < Names; i++)
        {
            Assert.Null(await balancer.PickAsync($"host-{i}.example.com", GrayStatus.Gray));
        }

        Assert.InRange(balancer.CachedNameCount, 1, 1_000);
        Assert.Single(_logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Warning);

        // Beyond the cap a name is not lost: it is asked of the provider again on every call.
        var calls = _provider.Calls;
        Assert.Null(await balancer.PickAsync("host-9999.example.com", GrayStatus.Gray));
        Assert.Null(await balancer.PickAsync("host-9999.example.com", GrayStatus.Gray));
        Assert.Equal(calls + 2, _provider.Calls);
    }

    [Fact]
    public async Task Ten_thousand_services_picked_give_the_service_tag_at_most_cap_plus_one_values_and_lose_no_pick()
    {
        for (var i = 0; i < Names; i++)
        {
            _provider.Set($"svc-{i}", Instance($"svc-{i}", 7201, "V1"));
        }

        var balancer = Balancer();
        using var picks = new MetricCollector<long>(_services.GetRequiredService<IMeterFactory>(), GrayReleaseMetrics.MeterName, "grayrelease.loadbalancer.picks");
        for (var i = 0; i < Names; i++)
        {
            Assert.NotNull(await balancer.PickAsync($"svc-{i}", GrayStatus.Prod));
        }

        var measurements = picks.GetMeasurementSnapshot();
        var services = measurements.Select(m => (string)m.Tags["service"]!).Distinct().ToList();
        Assert.InRange(services.Count, 2, 1_001);
        Assert.Contains("(other)", services);
        Assert.Equal(Names, measurements.Sum(m => m.Value));
    }

    [Fact]
    public async Task MaxUnknownServices_bounds_the_remembered_names_and_expired_ones_make_room_again()
    {
        _options.Set(new GrayReleaseOptions { ProdVersion = "V1", GrayVersion = "V2", MaxUnknownServices = 10 });
        var balancer = Balancer();
        for (var i = 0; i < 50; i++)
        {
            Assert.Null(await balancer.PickAsync($"first-{i}", GrayStatus.Prod));
        }

        Assert.Equal(10, balancer.UnknownCount);
        Assert.Equal(10, balancer.CachedNameCount);

        // Past the recheck time the remembered names are swept when a new one needs room; the count stays exact.
        _time.Advance(TimeSpan.FromSeconds(6));
        for (var i = 0; i < 50; i++)
        {
            Assert.Null(await balancer.PickAsync($"second-{i}", GrayStatus.Prod));
        }

        Assert.Equal(10, balancer.UnknownCount);
        Assert.Equal(10, balancer.CachedNameCount);
        Assert.All(Enumerable.Range(0, 10), i => Assert.Null(balancer.GetTable($"second-{i}")));

        // A remembered unknown name that registers later becomes a table and leaves the unknown count.
        _provider.Set("second-0", Instance("second-0", 7201, "V1"));
        Assert.Equal(9, balancer.UnknownCount);
        Assert.NotNull(await balancer.PickAsync("second-0", GrayStatus.Prod));
    }

    [Fact]
    public async Task The_cap_warning_names_the_key_and_is_logged_again_only_after_ten_minutes()
    {
        _options.Set(new GrayReleaseOptions { MaxUnknownServices = 1 });
        var balancer = Balancer();
        for (var i = 0; i < 100; i++)
        {
            await balancer.PickAsync($"host-{i}", null);
        }

        var warning = Assert.Single(_logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Warning);
        Assert.Contains("GrayRelease:MaxUnknownServices (1) reached", warning.Message, StringComparison.Ordinal);

        _time.Advance(TimeSpan.FromMinutes(11));
        for (var i = 100; i < 200; i++)
        {
            await balancer.PickAsync($"host-{i}", null);
        }

        var warnings = _logger.Collector.GetSnapshot().Where(r => r.Level == LogLevel.Warning).ToList();
        Assert.Equal(2, warnings.Count);
    }

    [Fact]
    public void Metric_tag_limiter_keeps_the_first_values_and_counts_the_rest_as_other_logging_once()
    {
        var logger = new FakeLogger();
        var limiter = new MetricTagLimiter("service", 3, logger);
        var tags = Enumerable.Range(0, 10).Select(i => limiter.Admit($"svc-{i}")).ToList();

        Assert.Equal(["svc-0", "svc-1", "svc-2"], tags.Take(3));
        Assert.All(tags.Skip(3), tag => Assert.Equal(MetricTagLimiter.Other, tag));
        Assert.Equal("svc-1", limiter.Admit("svc-1"));
        Assert.Equal(3, limiter.Count);
        var warning = Assert.Single(logger.Collector.GetSnapshot());
        Assert.Contains("GrayRelease:MaxMetricTagValues (3)", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Spellings_of_a_configured_name_beyond_the_cap_are_answered_as_unknown_and_logged_once()
    {
        const string name = "configured-service-name";
        var options = new GrayReleaseOptions();
        options.Instances[name] = [new ConfiguredInstanceOptions { Address = "http://127.0.0.1:7201" }];
        var logger = new FakeLogger<ConfigurationServiceInstanceProvider>();
        using var provider = new ConfigurationServiceInstanceProvider(new TestOptionsMonitor<GrayReleaseOptions>(options), logger);

        var answered = 0;
        for (var i = 0; i < ConfigurationServiceInstanceProvider.MaxAskedSpellings + 500; i++)
        {
            if (await provider.GetInstancesAsync(Spelling(name, i)) is not null)
            {
                answered++;
            }
        }

        Assert.Equal(ConfigurationServiceInstanceProvider.MaxAskedSpellings, answered);
        Assert.NotNull(await provider.GetInstancesAsync(Spelling(name, 0)));
        Assert.Single(logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Warning);
    }

    [Theory]
    [InlineData(-1, 1000, "GrayRelease:MaxUnknownServices")]
    [InlineData(1000, 0, "GrayRelease:MaxMetricTagValues")]
    public void Caps_out_of_range_fail_validation_naming_the_key(int maxUnknown, int maxTagValues, string key)
    {
        var result = new GrayReleaseOptionsValidator().Validate(null, new GrayReleaseOptions { MaxUnknownServices = maxUnknown, MaxMetricTagValues = maxTagValues });

        Assert.True(result.Failed);
        Assert.Contains(key, result.FailureMessage, StringComparison.Ordinal);
    }

    // The i-th spelling: bit k of i upper-cases the k-th letter.
    private static string Spelling(string name, int i)
    {
        var chars = name.ToCharArray();
        for (int k = 0, bit = 0; k < chars.Length; k++)
        {
            if (char.IsAsciiLetter(chars[k]))
            {
                if ((i & (1 << bit)) != 0)
                {
                    chars[k] = char.ToUpperInvariant(chars[k]);
                }

                bit++;
            }
        }

        return new string(chars);
    }

    [Fact]
    public async Task A_provider_that_refuses_every_call_fails_each_call_but_is_logged_at_most_every_ten_seconds()
    {
        var refusing = new Moq.Mock<IServiceInstanceProvider>();
        refusing.Setup(p => p.GetInstancesAsync(Moq.It.IsAny<string>(), Moq.It.IsAny<CancellationToken>()))
            .Throws(new InvalidOperationException("nacos:MaxServices (2000) reached"));
        using var balancer = new GrayLoadBalancer(refusing.Object, _options, _time, new GrayReleaseMetrics(_services.GetRequiredService<IMeterFactory>()), _logger);

        for (var i = 0; i < 100; i++)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await balancer.PickAsync("svc-refused", GrayStatus.Prod));
        }

        Assert.Single(_logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Warning);

        _time.Advance(TimeSpan.FromSeconds(11));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await balancer.PickAsync("svc-refused", GrayStatus.Prod));
        var last = _logger.Collector.LatestRecord;
        Assert.Contains("99 more failure(s)", last.Message, StringComparison.Ordinal);
    }
}
