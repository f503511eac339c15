using System.Diagnostics.Metrics;
using GrayRelease.Diagnostics;
using GrayRelease.Discovery;
using GrayRelease.LoadBalancing;
using GrayRelease.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using static GrayRelease.Tests.Infrastructure.TestInstanceProvider;

namespace GrayRelease.Tests.Bounds;

/// <summary>
/// A service the load balancer stops picking is forgotten after <c>GrayRelease:IdleServiceTimeout</c>: its table goes,
/// and a registry provider is told to stop keeping it fresh (issue 16).
/// </summary>
public sealed class IdleEvictionTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan Period = TimeSpan.FromMinutes(1);

    private readonly EvictableProvider _provider = new();
    private readonly TestOptionsMonitor<GrayReleaseOptions> _options = new(new GrayReleaseOptions { IdleServiceTimeout = Timeout });
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
    public async Task A_service_not_picked_for_the_timeout_is_forgotten_and_the_provider_told_while_a_picked_one_stays()
    {
        _provider.Set("called-once", Instance("called-once", 7201, "V1"));
        _provider.Set("called-always", Instance("called-always", 7202, "V1"));
        var balancer = Balancer();
        using var evictions = new MetricCollector<long>(_services.GetRequiredService<IMeterFactory>(), GrayReleaseMetrics.MeterName, "grayrelease.loadbalancer.evictions");
        Assert.NotNull(await balancer.PickAsync("called-once", null));

        // Six sweep periods (1.5 timeouts): the most the sweep may take to notice.
        for (var round = 0; round < 6; round++)
        {
            Assert.NotNull(await balancer.PickAsync("called-always", null));
            _time.Advance(Period);
            await balancer.SweepIdleAsync(CancellationToken.None);
        }

        Assert.Null(balancer.GetTable("called-once"));
        Assert.NotNull(balancer.GetTable("called-always"));
        Assert.Equal(["called-once"], _provider.Evicted);
        Assert.Equal(1, evictions.GetMeasurementSnapshot().Sum(m => m.Value));
        var line = Assert.Single(_logger.Collector.GetSnapshot(), r => r.Id.Id == EventIds.IdleServicesEvicted);
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Contains("called-once", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task One_sweep_that_forgets_many_writes_one_line_with_the_count_and_five_names()
    {
        var balancer = Balancer();
        for (var i = 0; i < 7; i++)
        {
            _provider.Set($"svc-{i}", Instance($"svc-{i}", 7201 + i, "V1"));
            Assert.NotNull(await balancer.PickAsync($"svc-{i}", null));
        }

        for (var round = 0; round < 6; round++)
        {
            _time.Advance(Period);
            await balancer.SweepIdleAsync(CancellationToken.None);
        }

        var line = Assert.Single(_logger.Collector.GetSnapshot(), r => r.Id.Id == EventIds.IdleServicesEvicted);
        Assert.StartsWith("Forgot 7 service(s)", line.Message, StringComparison.Ordinal);
        Assert.EndsWith("and 2 more; the next call to one looks it up again.", line.Message, StringComparison.Ordinal);
        Assert.Equal(5, line.Message.Split("svc-").Length - 1);
    }

    [Fact]
    public async Task A_service_is_not_forgotten_before_the_timeout()
    {
        _provider.Set("svc", Instance("svc", 7201, "V1"));
        var balancer = Balancer();
        Assert.NotNull(await balancer.PickAsync("svc", null));
        for (var round = 0; round < 4; round++)
        {
            _time.Advance(Period - TimeSpan.FromSeconds(1));
            await balancer.SweepIdleAsync(CancellationToken.None);
        }

        Assert.NotNull(balancer.GetTable("svc"));
        Assert.Empty(_provider.Evicted);
    }

    [Fact]
    public async Task A_name_the_provider_keeps_pinned_keeps_its_table_and_is_asked_again_only_after_another_timeout()
    {
        _provider.Set("gateway-service", Instance("gateway-service", 7201, "V1"));
        _provider.Pinned.Add("gateway-service");
        var balancer = Balancer();
        Assert.NotNull(await balancer.PickAsync("gateway-service", null));

        for (var round = 0; round < 6; round++)
        {
            _time.Advance(Period);
            await balancer.SweepIdleAsync(CancellationToken.None);
        }

        Assert.NotNull(balancer.GetTable("gateway-service"));
        Assert.Single(_provider.Refused);
    }

    [Fact]
    public async Task A_change_of_the_instance_list_does_not_count_as_a_pick()
    {
        _provider.Set("flapping", Instance("flapping", 7201, "V1"));
        var balancer = Balancer();
        Assert.NotNull(await balancer.PickAsync("flapping", null));

        // A new list every period, and the fifth round (one timeout after the first) forgets it all the same.
        for (var round = 0; round < 5; round++)
        {
            _provider.Set("flapping", Instance("flapping", 7201 + round, "V1"));
            _time.Advance(Period);
            await balancer.SweepIdleAsync(CancellationToken.None);
        }

        Assert.Null(balancer.GetTable("flapping"));
    }

    [Fact]
    public async Task The_first_pick_after_eviction_looks_the_service_up_again_and_works()
    {
        _provider.Set("svc", Instance("svc", 7201, "V1"));
        var balancer = Balancer();
        Assert.NotNull(await balancer.PickAsync("svc", null));
        for (var round = 0; round < 6; round++)
        {
            _time.Advance(Period);
            await balancer.SweepIdleAsync(CancellationToken.None);
        }

        Assert.Null(balancer.GetTable("svc"));
        var calls = _provider.Calls;
        Assert.Equal(7201, (await balancer.PickAsync("svc", null))!.Port);
        Assert.Equal(calls + 1, _provider.Calls);
        Assert.NotNull(balancer.GetTable("svc"));
    }

    [Fact]
    public async Task The_timer_sweeps_at_a_quarter_of_a_reloaded_timeout()
    {
        _options.Set(new GrayReleaseOptions());
        _provider.Set("svc", Instance("svc", 7201, "V1"));
        var balancer = Balancer();
        Assert.NotNull(await balancer.PickAsync("svc", null));

        // Reloaded to 8 s: a sweep every 2 s, so 12 s (six periods) are enough.
        _options.Set(new GrayReleaseOptions { IdleServiceTimeout = TimeSpan.FromSeconds(8) });
        for (var second = 0; second < 12; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await balancer.LastSweep;
        }

        Assert.Null(balancer.GetTable("svc"));
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("-00:00:00.001")]
    public async Task A_timeout_of_zero_or_infinite_never_forgets(string timeout)
    {
        _options.Set(new GrayReleaseOptions { IdleServiceTimeout = TimeSpan.Parse(timeout, System.Globalization.CultureInfo.InvariantCulture) });
        _provider.Set("svc", Instance("svc", 7201, "V1"));
        var balancer = Balancer();
        Assert.NotNull(await balancer.PickAsync("svc", null));
        for (var round = 0; round < 10; round++)
        {
            _time.Advance(TimeSpan.FromDays(1));
            await balancer.LastSweep;
            await balancer.SweepIdleAsync(CancellationToken.None);
        }

        Assert.NotNull(balancer.GetTable("svc"));
    }

    [Fact]
    public async Task A_provider_failing_to_evict_fails_one_round_only()
    {
        _provider.Set("svc", Instance("svc", 7201, "V1"));
        _provider.Throw = true;
        _options.Set(new GrayReleaseOptions { IdleServiceTimeout = TimeSpan.FromSeconds(4) });
        var balancer = Balancer();
        Assert.NotNull(await balancer.PickAsync("svc", null));
        for (var second = 0; second < 6; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await balancer.LastSweep;
        }

        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Id == EventIds.IdleSweepFailed);
        _provider.Throw = false;
        for (var second = 0; second < 6; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await balancer.LastSweep;
        }

        Assert.Null(balancer.GetTable("svc"));
    }

    [Fact]
    public async Task A_pick_that_marks_its_service_used_allocates_nothing()
    {
        _provider.Set("svc", Enumerable.Range(0, 100).Select(i => Instance("svc", 10_000 + i, "V1")).ToArray());
        var balancer = Balancer();
        for (var i = 0; i < 100; i++)
        {
            PickSynchronously(balancer);
        }

        long allocated = 0;
        for (var round = 0; round < 100; round++)
        {
            // Each round clears the mark, so the first pick after it writes it again.
            await balancer.SweepIdleAsync(CancellationToken.None);
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 10; i++)
            {
                PickSynchronously(balancer);
            }

            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Assert.Equal(0, allocated);
    }

    [Theory]
    [InlineData("00:00:00.5")]
    [InlineData("-00:00:01")]
    [InlineData("366.00:00:00")]
    public async Task An_invalid_timeout_stops_the_host_at_start_up_naming_the_key_and_value(string timeout)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["GrayRelease:IdleServiceTimeout"] = timeout });
        builder.AddGrayRelease();
        using var host = builder.Build();
        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("GrayRelease:IdleServiceTimeout", exception.Message, StringComparison.Ordinal);
        Assert.Contains($"got '{TimeSpan.Parse(timeout, System.Globalization.CultureInfo.InvariantCulture)}'", exception.Message, StringComparison.Ordinal);
    }

    private static void PickSynchronously(GrayLoadBalancer balancer)
    {
        var pick = balancer.PickAsync("svc", null);
        if (!pick.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("A warm pick must complete synchronously.");
        }
    }

    /// <summary>A provider that keeps services fresh (as Nacos does) and records what the balancer tells it.</summary>
    private sealed class EvictableProvider : IServiceInstanceProvider, IServiceEvictionTarget
    {
        private readonly TestInstanceProvider _inner = new(StringComparer.Ordinal);

        public event EventHandler<ServiceInstancesChangedEventArgs>? InstancesChanged
        {
            add => _inner.InstancesChanged += value;
            remove => _inner.InstancesChanged -= value;
        }

        public List<string> Evicted { get; } = [];

        public List<string> Refused { get; } = [];

        public HashSet<string> Pinned { get; } = new(StringComparer.Ordinal);

        public bool Throw { get; set; }

        public int Calls => _inner.Calls;

        public void Set(string serviceName, params ServiceInstance[] instances) => _inner.Set(serviceName, instances);

        public ValueTask<IReadOnlyList<ServiceInstance>?> GetInstancesAsync(string serviceName, CancellationToken cancellationToken = default) =>
            _inner.GetInstancesAsync(serviceName, cancellationToken);

        public ValueTask<bool> TryEvictAsync(string serviceName, CancellationToken cancellationToken)
        {
            if (Throw)
            {
                throw new InvalidOperationException("registry unreachable");
            }

            if (Pinned.Contains(serviceName))
            {
                Refused.Add(serviceName);
                return ValueTask.FromResult(false);
            }

            Evicted.Add(serviceName);
            return ValueTask.FromResult(true);
        }

        public IDisposable Pin(string serviceName) => throw new NotSupportedException();
    }
}
