using GrayRelease.Yarp.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;
using static GrayRelease.Yarp.Tests.Routing.ClusterBuilder;

namespace GrayRelease.Yarp.Tests.Routing;

public class VersionFilterTests
{
    private readonly GrayReleaseOptions _options = new() { ProdVersion = "v1", GrayVersion = "v2" };
    private readonly ClusterState _cluster = Cluster("order-cluster");
    private readonly DestinationState[] _destinations = [Destination("a1", "v1"), Destination("b2", "v2"), Destination("c1", "v1"), Destination("d", null)];
    private readonly VersionFilter _filter;

    public VersionFilterTests() => _filter = new VersionFilter(new StaticOptionsMonitor<GrayReleaseOptions>(_options), NullLogger<VersionFilter>.Instance);

    [Theory]
    [InlineData(GrayStatus.Gray, new[] { "b2" })]
    [InlineData(GrayStatus.Prod, new[] { "a1", "c1" })]
    [InlineData(GrayStatus.All, new[] { "a1", "b2", "c1", "d" })]
    public void Request_keeps_only_the_destinations_of_its_version(GrayStatus status, string[] expected)
    {
        var selected = Select(status, out var failure);

        Assert.Null(failure);
        Assert.Equal(expected, Ids(selected));
    }

    [Fact]
    public void Per_service_versions_follow_the_cluster_metadata_service_name()
    {
        _options.Services["order-app"] = new GrayServiceOptions { GrayVersion = "v1" };
        var cluster = Cluster("order-cluster", new Dictionary<string, string> { [GrayReleaseProxy.ServiceMetadataKey] = "order-app" });

        Assert.Equal(["a1", "c1"], Ids(Select(GrayStatus.Gray, out _, cluster)));
        Assert.Equal(["b2"], Ids(Select(GrayStatus.Gray, out _)));
    }

    [Fact]
    public void Per_service_versions_follow_the_registry_service_of_the_destinations_else_the_cluster_id()
    {
        _options.Services["order-app"] = new GrayServiceOptions { GrayVersion = "v3" };
        _options.Services["order-cluster"] = new GrayServiceOptions { GrayVersion = "v1" };
        DestinationState[] fromRegistry = [Destination("x1", "v1", "order-app"), Destination("x3", "v3", "order-app")];

        Assert.Equal(["x3"], Ids(Select(GrayStatus.Gray, out _, destinations: fromRegistry)));
        Assert.Equal(["a1", "c1"], Ids(Select(GrayStatus.Gray, out _)));
    }

    [Fact]
    public void Missing_version_fails_with_a_reason_naming_service_mode_wanted_and_available_versions()
    {
        _options.GrayVersion = "v9";

        var selected = Select(GrayStatus.Gray, out var failure);

        Assert.Null(selected);
        Assert.NotNull(failure);
        Assert.Equal(("order-cluster", GrayStatus.Gray, "v9"), (failure.ServiceName, failure.Status, failure.WantedVersion));
        Assert.Equal(["v1", "v2"], failure.AvailableVersions);
        Assert.Contains("mode GRAY (wanted version: v9; available versions: v1, v2)", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fallback_to_prod_uses_the_prod_destinations()
    {
        (_options.GrayVersion, _options.NoInstancePolicy) = ("v9", NoInstancePolicy.FallbackToProd);

        Assert.Equal(["a1", "c1"], Ids(Select(GrayStatus.Gray, out _)));
    }

    [Fact]
    public void Fallback_to_prod_without_a_prod_version_uses_every_destination_as_the_services_do()
    {
        (_options.ProdVersion, _options.GrayVersion, _options.NoInstancePolicy) = (null, "v9", NoInstancePolicy.FallbackToProd);

        Assert.Equal(["a1", "b2", "c1", "d"], Ids(Select(GrayStatus.Gray, out var failure)));
        Assert.Null(failure);
    }

    [Fact]
    public void Fallback_to_all_uses_every_destination()
    {
        (_options.GrayVersion, _options.NoInstancePolicy) = ("v9", NoInstancePolicy.FallbackToAll);

        Assert.Equal(["a1", "b2", "c1", "d"], Ids(Select(GrayStatus.Gray, out _)));
    }

    [Fact]
    public void Fallback_to_prod_fails_when_prod_is_missing_too()
    {
        (_options.ProdVersion, _options.GrayVersion, _options.NoInstancePolicy) = ("v8", "v9", NoInstancePolicy.FallbackToProd);

        Assert.Null(Select(GrayStatus.Gray, out var failure));
        Assert.NotNull(failure);
    }

    [Fact]
    public void Gray_release_switched_off_in_the_core_options_keeps_every_destination()
    {
        _options.Enabled = false;

        Assert.Equal(4, Select(GrayStatus.Gray, out _)!.Count);
    }

    [Fact]
    public void Destinations_with_weight_0_are_left_out()
    {
        DestinationState[] destinations = [Destination("a1", "v1", weight: "0"), Destination("b1", "v1"), Destination("c2", "v2", weight: "0")];

        Assert.Equal(["b1"], Ids(Select(GrayStatus.Prod, out _, destinations: destinations)));
        Assert.Equal(["b1"], Ids(Select(GrayStatus.All, out _, destinations: destinations)));
        Assert.Null(Select(GrayStatus.Gray, out var failure, destinations: destinations));
        Assert.Equal(["v1"], failure!.AvailableVersions);
    }

    [Fact]
    public void Same_destination_list_reuses_the_same_filtered_set_and_a_new_list_rebuilds_it()
    {
        var first = Select(GrayStatus.Prod, out _);
        Assert.Same(first, Select(GrayStatus.Prod, out _));

        var changed = Select(GrayStatus.Prod, out _, destinations: [Destination("e1", "v1")]);
        Assert.NotSame(first, changed);
        Assert.Equal(["e1"], Ids(changed));
    }

    [Fact]
    public void Filtering_a_request_allocates_nothing()
    {
        var filter = _filter;
        using var scope = GrayContext.Begin(GrayStatus.Gray);
        filter.Select(_cluster, _cluster.Model, _destinations, out _);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            filter.Select(_cluster, _cluster.Model, _destinations, out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData("feature-a")]
    [InlineData("feature-x")]
    public void Filtering_a_request_in_a_lane_allocates_nothing(string lane)
    {
        // feature-a has a destination here; feature-x has none and falls back (permissive) to the baseline by status.
        var filter = _filter;
        DestinationState[] destinations = [.. _destinations, InLane("e1", "v1", "feature-a")];
        using var scope = GrayContext.Begin(GrayStatus.Gray);
        using var inLane = GrayContext.BeginLane(lane);
        var selected = filter.Select(_cluster, _cluster.Model, destinations, out _);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            filter.Select(_cluster, _cluster.Model, destinations, out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(lane == "feature-a" ? ["e1"] : ["b2"], Ids(selected));
    }

    [Fact]
    public void Policy_rotates_gray_and_prod_destinations_independently()
    {
        var filter = _filter;
        var policy = new GrayRoundRobinLoadBalancingPolicy(filter, NullLogger<GrayRoundRobinLoadBalancingPolicy>.Instance);
        DestinationState[] destinations = [Destination("a1", "v1"), Destination("b1", "v1"), Destination("c2", "v2"), Destination("d2", "v2")];
        DestinationSet gray, prod;
        using (GrayContext.Begin(GrayStatus.Gray))
        {
            gray = filter.Select(_cluster, _cluster.Model, destinations, out _)!;
        }

        using (GrayContext.Begin(GrayStatus.Prod))
        {
            prod = filter.Select(_cluster, _cluster.Model, destinations, out _)!;
        }

        var picks = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            // Interleaved traffic: a shared counter would send every gray request to the same destination.
            picks.Add(policy.PickDestination(new Microsoft.AspNetCore.Http.DefaultHttpContext(), _cluster, gray)!.DestinationId);
            picks.Add(policy.PickDestination(new Microsoft.AspNetCore.Http.DefaultHttpContext(), _cluster, prod)!.DestinationId);
        }

        Assert.Equal(["c2", "a1", "d2", "b1", "c2", "a1", "d2", "b1"], picks);
    }

    [Fact]
    public void Policy_filters_by_itself_when_the_pipeline_step_is_missing()
    {
        var filter = _filter;
        var policy = new GrayRoundRobinLoadBalancingPolicy(filter, NullLogger<GrayRoundRobinLoadBalancingPolicy>.Instance);
        using var scope = GrayContext.Begin(GrayStatus.Gray);

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("b2", policy.PickDestination(new Microsoft.AspNetCore.Http.DefaultHttpContext(), _cluster, _destinations)!.DestinationId);
        }

        _options.GrayVersion = "v9";
        Assert.Null(policy.PickDestination(new Microsoft.AspNetCore.Http.DefaultHttpContext(), _cluster, _destinations));
    }

    private DestinationSet? Select(GrayStatus status, out GrayRelease.Routing.RouteFailure? failure, ClusterState? cluster = null, IReadOnlyList<DestinationState>? destinations = null)
    {
        cluster ??= _cluster;
        using var scope = GrayContext.Begin(status);
        return _filter.Select(cluster, cluster.Model, destinations ?? _destinations, out failure);
    }

    private static DestinationState InLane(string id, string version, string lane) =>
        new(id, new DestinationModel(new DestinationConfig
        {
            Address = $"http://{id}.test",
            Metadata = new Dictionary<string, string> { ["version"] = version, ["lane"] = lane },
        }));

    private static string[] Ids(IReadOnlyList<DestinationState>? destinations) =>
        destinations is null ? [] : [.. destinations.Select(d => d.DestinationId)];
}
