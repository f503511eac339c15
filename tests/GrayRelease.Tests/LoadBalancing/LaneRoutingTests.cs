using System.Diagnostics.Metrics;
using GrayRelease.Diagnostics;
using GrayRelease.Discovery;
using GrayRelease.LoadBalancing;
using GrayRelease.Routing;
using GrayRelease.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace GrayRelease.Tests.LoadBalancing;

/// <summary>Lanes in the routing core, through the load balancer: lane first, then the lane's mode.</summary>
public sealed class LaneRoutingTests : IDisposable
{
    private readonly TestInstanceProvider _provider = new();
    private readonly TestOptionsMonitor<GrayReleaseOptions> _options = new(new GrayReleaseOptions { ProdVersion = "V1", GrayVersion = "V2" });
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly GrayLoadBalancer _balancer;

    public LaneRoutingTests()
    {
        _balancer = new GrayLoadBalancer(_provider, _options, new FakeTimeProvider(), new GrayReleaseMetrics(_services.GetRequiredService<IMeterFactory>()), NullLogger<GrayLoadBalancer>.Instance);
        _provider.Set(
            "user-app",
            Instance(7201, "V1"),
            Instance(7202, "V2"),
            Instance(7211, "V1", lane: "feature-a"),
            Instance(7212, "V2", lane: "feature-a"),
            Instance(7221, "V1", lane: "feature-b"));
    }

    public void Dispose()
    {
        _balancer.Dispose();
        _services.Dispose();
    }

    [Theory]
    [InlineData(GrayStatus.Prod)]
    [InlineData(GrayStatus.Gray)]
    [InlineData(null)]
    public async Task A_request_in_a_lane_reaches_the_lanes_instances_whatever_its_status(GrayStatus? status)
    {
        Assert.Equal([7211, 7212], (await Ports(status, "feature-a")).Distinct().Order());
        Assert.Equal([7221], (await Ports(status, "feature-b")).Distinct());
    }

    [Theory]
    [InlineData(GrayStatus.Prod, new[] { 7201 })]
    [InlineData(GrayStatus.Gray, new[] { 7202 })]
    [InlineData(GrayStatus.All, new[] { 7201, 7202 })]
    public async Task A_permissive_lane_without_an_instance_here_falls_back_to_the_baseline_by_status(GrayStatus status, int[] expected)
    {
        Assert.Equal(expected, (await Ports(status, "feature-c")).Distinct().Order());
    }

    [Fact]
    public async Task A_strict_lane_without_an_instance_gets_the_no_instance_answer_naming_service_lane_and_what_exists()
    {
        var options = Options();
        options.Lanes["feature-c"] = new GrayLaneOptions { Mode = LaneMode.Strict };
        _options.Set(options);

        var exception = await Assert.ThrowsAsync<NoAvailableInstanceException>(() => _balancer.PickInLaneAsync("user-app", GrayStatus.Gray, "feature-c").AsTask());

        Assert.Contains("'user-app' in strict lane 'feature-c'", exception.Message, StringComparison.Ordinal);
        Assert.Contains("lanes with instances: feature-a, feature-b; baseline versions: V1, V2", exception.Message, StringComparison.Ordinal);
        Assert.Contains("GrayRelease:Lanes:feature-c:Mode", exception.Message, StringComparison.Ordinal);

        // A strict lane that has instances here still reaches them.
        options.Lanes["feature-a"] = new GrayLaneOptions { Mode = LaneMode.Strict };
        _options.Set(Clone(options));
        Assert.Equal([7211, 7212], (await Ports(GrayStatus.Gray, "feature-a")).Distinct().Order());
    }

    [Theory]
    [InlineData(GrayStatus.Prod, new[] { 7201 })]
    [InlineData(GrayStatus.Gray, new[] { 7202 })]
    [InlineData(GrayStatus.All, new[] { 7201, 7202 })]
    [InlineData(null, new[] { 7201, 7202 })]
    public async Task A_request_without_a_lane_never_reaches_a_lane_instance(GrayStatus? status, int[] expected)
    {
        Assert.Equal(expected, (await Ports(status, null)).Distinct().Order());
    }

    [Fact]
    public async Task A_lane_that_serves_baseline_traffic_also_gets_requests_without_a_lane()
    {
        var options = Options();
        options.Lanes["feature-a"] = new GrayLaneOptions { ServeBaselineTraffic = true };
        _options.Set(options);

        Assert.Equal([7202, 7212], (await Ports(GrayStatus.Gray, null)).Distinct().Order());
        Assert.Equal([7201, 7202, 7211, 7212], (await Ports(GrayStatus.All, null)).Distinct().Order());

        // Another lane's requests that fall back to the baseline do not get it.
        Assert.Equal([7202], (await Ports(GrayStatus.Gray, "feature-c")).Distinct());
    }

    [Fact]
    public async Task The_lane_metadata_key_is_configurable_and_regroups_live()
    {
        var options = Options();
        options.LaneMetadataKey = "sandbox";
        _options.Set(options);

        // Under the new key nobody is in a lane: every instance is baseline.
        Assert.Equal([7202, 7212], (await Ports(GrayStatus.Gray, null)).Distinct().Order());
    }

    [Fact]
    public void A_pick_in_a_lane_allocates_nothing()
    {
        for (var i = 0; i < 100; i++)
        {
            PickSynchronously("feature-a");
            PickSynchronously("feature-c");
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            PickSynchronously("feature-a");
            PickSynchronously("feature-c");
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public async Task No_instance_metric_tags_a_lane_the_process_does_not_know_as_unknown_never_as_the_request_named_it()
    {
        using var failures = new MetricCollector<long>(_services.GetRequiredService<IMeterFactory>(), GrayReleaseMetrics.MeterName, "grayrelease.loadbalancer.no_instance");
        var options = new GrayReleaseOptions { ProdVersion = "V1", GrayVersion = "V9" };
        options.Lanes["strict-" + Guid.NewGuid().ToString("N")[..8]] = new GrayLaneOptions { Mode = LaneMode.Strict };
        _options.Set(options);
        var configured = options.Lanes.Keys.Single();
        var invented = "invented-" + Guid.NewGuid().ToString("N");

        // Permissive (unknown) lane: the baseline, which has no V9; strict configured lane: no instance in it.
        await Assert.ThrowsAsync<NoAvailableInstanceException>(() => _balancer.PickInLaneAsync("user-app", GrayStatus.Gray, invented).AsTask());
        await Assert.ThrowsAsync<NoAvailableInstanceException>(() => _balancer.PickInLaneAsync("user-app", GrayStatus.Prod, configured).AsTask());
        await Assert.ThrowsAsync<NoAvailableInstanceException>(() => _balancer.PickInLaneAsync("user-app", GrayStatus.Gray, null).AsTask());

        Assert.Equal([GrayReleaseMetrics.UnknownLane, configured, string.Empty], failures.GetMeasurementSnapshot().Select(m => m.Tags["lane"] as string));
    }

    [Fact]
    public async Task A_lane_first_registered_after_the_request_began_is_still_reached()
    {
        var lane = "late-" + Guid.NewGuid().ToString("N")[..8];
        using (GrayContext.Set(GrayStatus.Prod, lane))
        {
            var frame = GrayContext.CurrentFrameValue!;
            Assert.Null(frame.LaneKey);
            Assert.Equal(7201, (await _balancer.PickInLaneAsync("user-app", frame.Status, frame.LaneKey, frame.Lane))!.Port);

            _provider.Set("user-app", Instance(7201, "V1"), Instance(7231, "V1", lane: lane));

            Assert.Equal(7231, (await _balancer.PickInLaneAsync("user-app", frame.Status, frame.LaneKey, frame.Lane))!.Port);
        }
    }

    [Fact]
    public void A_pick_in_a_lane_by_the_key_its_context_interned_allocates_nothing()
    {
        PickSynchronously("feature-a");
        using (GrayContext.Set(GrayStatus.Gray, "feature-a"))
        {
            var frame = GrayContext.CurrentFrameValue!;
            Assert.Same(LaneRegistry.Find("feature-a"), frame.LaneKey);
            for (var i = 0; i < 100; i++)
            {
                var warm = _balancer.PickInLaneAsync("user-app", frame.Status, frame.LaneKey, frame.Lane);
                Assert.True(warm.IsCompletedSuccessfully);
            }

            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 1000; i++)
            {
                var pick = _balancer.PickInLaneAsync("user-app", frame.Status, frame.LaneKey, frame.Lane);
                Assert.True(pick.IsCompletedSuccessfully);
            }

            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    [Fact]
    public void Scopes_begun_in_a_known_lane_with_nothing_current_share_one_frame_per_status()
    {
        PickSynchronously("feature-b");
        GrayFrame first;
        using (GrayContext.Set(GrayStatus.Prod, "feature-b"))
        {
            first = GrayContext.CurrentFrameValue!;
        }

        using (GrayContext.SetInLane(GrayStatus.Prod, LaneRegistry.Find("feature-b")!))
        {
            Assert.Same(first, GrayContext.CurrentFrameValue);
            Assert.Equal(("feature-b", GrayStatus.Prod), (GrayContext.CurrentLane, GrayContext.Current));
        }

        Assert.Null(GrayContext.CurrentFrameValue);
    }

    private void PickSynchronously(string lane)
    {
        var pick = _balancer.PickInLaneAsync("user-app", GrayStatus.Gray, lane);
        Assert.True(pick.IsCompletedSuccessfully);
    }

    private async Task<List<int>> Ports(GrayStatus? status, string? lane)
    {
        var ports = new List<int>();
        for (var i = 0; i < 8; i++)
        {
            ports.Add((await _balancer.PickInLaneAsync("user-app", status, lane))!.Port);
        }

        return ports;
    }

    private static GrayReleaseOptions Options() => new() { ProdVersion = "V1", GrayVersion = "V2" };

    private static GrayReleaseOptions Clone(GrayReleaseOptions source)
    {
        var copy = Options();
        foreach (var (name, lane) in source.Lanes)
        {
            copy.Lanes[name] = lane;
        }

        return copy;
    }

    private static ServiceInstance Instance(int port, string version, string? lane = null)
    {
        var metadata = new Dictionary<string, string> { ["version"] = version };
        if (lane is not null)
        {
            metadata["lane"] = lane;
        }

        return new ServiceInstance { ServiceName = "user-app", Host = "127.0.0.1", Port = port, Metadata = metadata };
    }
}
