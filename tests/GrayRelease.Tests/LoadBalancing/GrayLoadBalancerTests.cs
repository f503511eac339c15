using System.Diagnostics.Metrics;
using GrayRelease.Diagnostics;
using GrayRelease.Discovery;
using GrayRelease.LoadBalancing;
using GrayRelease.Tests.Infrastructure;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static GrayRelease.Tests.Infrastructure.TestInstanceProvider;

namespace GrayRelease.Tests.LoadBalancing;

public sealed class GrayLoadBalancerTests : IDisposable
{
    private readonly TestInstanceProvider _provider = new();
    private readonly TestOptionsMonitor<GrayReleaseOptions> _options = new(new GrayReleaseOptions { ProdVersion = "V1", GrayVersion = "V2" });
    private readonly FakeTimeProvider _time = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly GrayLoadBalancer _balancer;

    public GrayLoadBalancerTests()
    {
        _balancer = new GrayLoadBalancer(_provider, _options, _time, new GrayReleaseMetrics(_services.GetRequiredService<IMeterFactory>()), NullLogger<GrayLoadBalancer>.Instance);
    }

    public void Dispose()
    {
        _balancer.Dispose();
        _services.Dispose();
    }

    private void MixedUserApp() => _provider.Set(
        "user-app",
        Instance("user-app", 7201, "V1"),
        Instance("user-app", 7202, "V2"),
        Instance("user-app", 7203, "V1"),
        Instance("user-app", 7204, "V2"));

    private async Task<List<int>> PickPorts(GrayStatus? status, int count, string service = "user-app")
    {
        var ports = new List<int>();
        for (var i = 0; i < count; i++)
        {
            var instance = await _balancer.PickAsync(service, status);
            ports.Add(instance!.Port);
        }

        return ports;
    }

    [Fact]
    public async Task Gray_calls_only_reach_the_gray_version_round_robin()
    {
        MixedUserApp();
        var ports = await PickPorts(GrayStatus.Gray, 8);
        Assert.All(ports, port => Assert.Contains(port, new[] { 7202, 7204 }));
        Assert.Equal(4, ports.Count(p => p == 7202));
    }

    [Fact]
    public async Task Prod_calls_only_reach_the_prod_version()
    {
        MixedUserApp();
        var ports = await PickPorts(GrayStatus.Prod, 8);
        Assert.Equal(new[] { 7201, 7203 }, ports.Distinct().Order());
    }

    [Fact]
    public async Task All_calls_reach_every_version()
    {
        MixedUserApp();
        var ports = await PickPorts(GrayStatus.All, 8);
        Assert.Equal(new[] { 7201, 7202, 7203, 7204 }, ports.Distinct().Order());
    }

    [Fact]
    public async Task Untagged_calls_follow_the_callers_own_version()
    {
        MixedUserApp();
        _options.Set(new GrayReleaseOptions { ProdVersion = "V1", GrayVersion = "V2", Version = "V2" });
        Assert.All(await PickPorts(null, 6), port => Assert.Contains(port, new[] { 7202, 7204 }));
    }

    [Fact]
    public async Task Untagged_calls_from_a_caller_without_version_reach_every_version()
    {
        MixedUserApp();
        Assert.Equal(4, (await PickPorts(null, 8)).Distinct().Count());
    }

    [Fact]
    public async Task Per_service_versions_override_the_defaults()
    {
        MixedUserApp();
        var options = new GrayReleaseOptions { ProdVersion = "V1", GrayVersion = "V2" };
        options.Services["user-app"] = new GrayServiceOptions { GrayVersion = "V1" };
        _options.Set(options);
        Assert.All(await PickPorts(GrayStatus.Gray, 4), port => Assert.Contains(port, new[] { 7201, 7203 }));
    }

    [Fact]
    public async Task Options_reload_applies_to_the_next_pick()
    {
        MixedUserApp();
        Assert.All(await PickPorts(GrayStatus.Gray, 4), port => Assert.Contains(port, new[] { 7202, 7204 }));

        _options.Set(new GrayReleaseOptions { ProdVersion = "V2", GrayVersion = "V1" });

        Assert.All(await PickPorts(GrayStatus.Gray, 4), port => Assert.Contains(port, new[] { 7201, 7203 }));
        Assert.All(await PickPorts(GrayStatus.Prod, 4), port => Assert.Contains(port, new[] { 7202, 7204 }));
    }

    [Fact]
    public async Task Quarantine_survives_an_instance_list_change()
    {
        _provider.Set("user-app", Instance("user-app", 7201, "V1"), Instance("user-app", 7203, "V1"));
        var first = (await _balancer.PickAsync("user-app", GrayStatus.Prod))!;
        _balancer.ReportConnectionFailure(first);
        _provider.Set("user-app", Instance("user-app", 7201, "V1"), Instance("user-app", 7203, "V1"), Instance("user-app", 7205, "V2"));

        Assert.DoesNotContain(first.Port, await PickPorts(GrayStatus.Prod, 6));
    }

    [Fact]
    public async Task Disabled_switch_ignores_versions()
    {
        MixedUserApp();
        _options.Set(new GrayReleaseOptions { Enabled = false, ProdVersion = "V1", GrayVersion = "V2" });
        Assert.Equal(4, (await PickPorts(GrayStatus.Gray, 8)).Distinct().Count());
    }

    [Fact]
    public async Task Unhealthy_disabled_and_zero_weight_instances_are_never_picked()
    {
        _provider.Set(
            "user-app",
            Instance("user-app", 7201, "V1"),
            Instance("user-app", 7202, "V1", healthy: false),
            Instance("user-app", 7203, "V1", enabled: false),
            Instance("user-app", 7204, "V1", weight: 0));
        Assert.All(await PickPorts(GrayStatus.Prod, 10), port => Assert.Equal(7201, port));
    }

    [Fact]
    public async Task Weights_are_honoured_and_interleaved()
    {
        _provider.Set(
            "user-app",
            Instance("user-app", 7201, "V1", weight: 1),
            Instance("user-app", 7202, "V1", weight: 2.5),
            Instance("user-app", 7203, "V1", weight: 0.5));
        var ports = await PickPorts(GrayStatus.Prod, 800);
        Assert.Equal(200, ports.Count(p => p == 7201));
        Assert.Equal(500, ports.Count(p => p == 7202));
        Assert.Equal(100, ports.Count(p => p == 7203));

        // Smooth: the heaviest instance never gets more than 3 picks in a row (5:2:1 per 8 picks).
        var longestRun = 0;
        var run = 0;
        foreach (var port in ports)
        {
            run = port == 7202 ? run + 1 : 0;
            longestRun = Math.Max(longestRun, run);
        }

        Assert.True(longestRun <= 3, $"longest run of the heavy instance was {longestRun}");
    }

    [Fact]
    public async Task Unknown_service_is_passed_through_and_asked_again_later()
    {
        Assert.Null(await _balancer.PickAsync("api.example", GrayStatus.Gray));
        Assert.Null(await _balancer.PickAsync("api.example", GrayStatus.Gray));
        Assert.Equal(1, _provider.Calls);

        _time.Advance(TimeSpan.FromSeconds(6));
        Assert.Null(await _balancer.PickAsync("api.example", GrayStatus.Gray));
        Assert.Equal(2, _provider.Calls);
    }

    [Fact]
    public async Task Instance_list_changes_apply_to_the_next_pick_without_asking_the_provider()
    {
        MixedUserApp();
        await PickPorts(GrayStatus.Gray, 1);
        _provider.Set("user-app", Instance("user-app", 7301, "V2"));
        Assert.All(await PickPorts(GrayStatus.Gray, 3), port => Assert.Equal(7301, port));

        // Change notifications alone keep the table current: the provider is never polled per request.
        Assert.Equal(0, _provider.Calls);
    }

    [Fact]
    public async Task Missing_version_fails_with_a_message_naming_service_mode_and_versions()
    {
        _provider.Set("user-app", Instance("user-app", 7201, "V1"), Instance("user-app", 7203, "V3"));
        var exception = await Assert.ThrowsAsync<NoAvailableInstanceException>(() => _balancer.PickAsync("user-app", GrayStatus.Gray).AsTask());
        Assert.Contains("'user-app'", exception.Message, StringComparison.Ordinal);
        Assert.Contains("GRAY", exception.Message, StringComparison.Ordinal);
        Assert.Contains("wanted version: V2", exception.Message, StringComparison.Ordinal);
        Assert.Contains("available versions: V1, V3", exception.Message, StringComparison.Ordinal);
        Assert.Equal(new[] { "V1", "V3" }, exception.AvailableVersions);
    }

    [Fact]
    public async Task FallbackToProd_sends_gray_calls_to_prod_when_no_gray_instance_exists()
    {
        _provider.Set("user-app", Instance("user-app", 7201, "V1"), Instance("user-app", 7203, "V3"));
        _options.Set(new GrayReleaseOptions { ProdVersion = "V1", GrayVersion = "V2", NoInstancePolicy = NoInstancePolicy.FallbackToProd });
        Assert.All(await PickPorts(GrayStatus.Gray, 4), port => Assert.Equal(7201, port));
    }

    [Fact]
    public async Task FallbackToProd_without_a_prod_version_sends_gray_calls_to_any_version_as_the_gateway_does()
    {
        // PROD with no prod version configured means any version, so falling back to "prod" means any routable instance.
        _provider.Set("user-app", Instance("user-app", 7201, "V1"), Instance("user-app", 7203, "V3"));
        _options.Set(new GrayReleaseOptions { GrayVersion = "V2", NoInstancePolicy = NoInstancePolicy.FallbackToProd });
        Assert.Equal(new[] { 7201, 7203 }, (await PickPorts(GrayStatus.Gray, 4)).Distinct().Order());
    }

    [Fact]
    public async Task FallbackToAll_sends_gray_calls_anywhere_when_no_gray_instance_exists()
    {
        _provider.Set("user-app", Instance("user-app", 7201, "V1"), Instance("user-app", 7203, "V3"));
        _options.Set(new GrayReleaseOptions { ProdVersion = "V1", GrayVersion = "V2", NoInstancePolicy = NoInstancePolicy.FallbackToAll });
        Assert.Equal(new[] { 7201, 7203 }, (await PickPorts(GrayStatus.Gray, 4)).Distinct().Order());
    }

    [Fact]
    public async Task Refused_instance_is_skipped_until_its_quarantine_ends()
    {
        _provider.Set("user-app", Instance("user-app", 7201, "V1"), Instance("user-app", 7203, "V1"));
        var first = (await _balancer.PickAsync("user-app", GrayStatus.Prod))!;
        _balancer.ReportConnectionFailure(first);

        var other = first.Port == 7201 ? 7203 : 7201;
        Assert.All(await PickPorts(GrayStatus.Prod, 6), port => Assert.Equal(other, port));

        _time.Advance(TimeSpan.FromSeconds(11));
        Assert.Contains(first.Port, await PickPorts(GrayStatus.Prod, 4));
    }

    [Fact]
    public async Task When_every_instance_is_quarantined_one_is_still_tried()
    {
        _provider.Set("user-app", Instance("user-app", 7201, "V1"));
        var only = (await _balancer.PickAsync("user-app", GrayStatus.Prod))!;
        _balancer.ReportConnectionFailure(only);
        Assert.Equal(7201, (await _balancer.PickAsync("user-app", GrayStatus.Prod))!.Port);
    }

    [Fact]
    public async Task Picks_and_failures_are_counted_by_service_and_version()
    {
        using var picks = new MetricCollector<long>(_services.GetRequiredService<IMeterFactory>(), GrayReleaseMetrics.MeterName, "grayrelease.loadbalancer.picks");
        using var failures = new MetricCollector<long>(_services.GetRequiredService<IMeterFactory>(), GrayReleaseMetrics.MeterName, "grayrelease.loadbalancer.no_instance");
        _provider.Set("user-app", Instance("user-app", 7201, "V1"));
        await PickPorts(GrayStatus.Prod, 3);
        await Assert.ThrowsAsync<NoAvailableInstanceException>(() => _balancer.PickAsync("user-app", GrayStatus.Gray).AsTask());

        Assert.Equal(3, picks.GetMeasurementSnapshot().Where(m => (string?)m.Tags["version"] == "V1" && (string?)m.Tags["service"] == "user-app").Sum(m => m.Value));
        var failure = Assert.Single(failures.GetMeasurementSnapshot());
        Assert.Equal("GRAY", failure.Tags["status"]);
    }

    [Fact]
    public void A_pick_on_the_warm_path_allocates_nothing()
    {
        var instances = Enumerable.Range(0, 1000).Select(i => Instance("user-app", 10_000 + i, i % 10 == 0 ? "V2" : "V1")).ToArray();
        _provider.Set("user-app", instances);
        for (var i = 0; i < 100; i++)
        {
            PickSynchronously(GrayStatus.Gray);
            PickSynchronously(GrayStatus.Prod);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            PickSynchronously(GrayStatus.Gray);
            PickSynchronously(GrayStatus.Prod);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private ServiceInstance PickSynchronously(GrayStatus status)
    {
        // Once a service's table exists, a pick completes synchronously; that is what makes it allocation-free.
        var pick = _balancer.PickAsync("user-app", status);
        if (!pick.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("A warm pick must complete synchronously.");
        }

        return pick.Result!;
    }
}
