using System.Diagnostics.Metrics;
using GrayRelease.Diagnostics;
using GrayRelease.Discovery;
using GrayRelease.LoadBalancing;
using GrayRelease.Yarp.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace GrayRelease.Yarp.Tests.Routing;

/// <summary>
/// One set of routing cases run against both adapters of the routing core: the services' HttpClient load balancer and the
/// gateway's version filter + GrayRoundRobin policy. Each case states which instances a request may reach (or that it
/// fails, and what the answer says), and both adapters must also pick in exactly the same order.
/// </summary>
public sealed class SharedRoutingTests
{
    private const string Service = "user-app";

    public static TheoryData<string> Cases => [.. AllCases.Keys];

    private static readonly Dictionary<string, RoutingCase> AllCases = new RoutingCase[]
    {
        new("gray reaches only the gray version", Options(), Mixed, GrayStatus.Gray, Reach: [2, 4]),
        new("prod reaches only the prod version", Options(), Mixed, GrayStatus.Prod, Reach: [1, 3]),
        new("all reaches every version", Options(), Mixed, GrayStatus.All, Reach: [1, 2, 3, 4]),
        new("untagged follows the caller's version", Options(o => o.Version = "V2"), Mixed, null, Reach: [2, 4]),
        new("untagged from a caller without version reaches every version", Options(), Mixed, null, Reach: [1, 2, 3, 4]),
        new("untagged with UntaggedRequests=Prod reaches prod", Options(o => (o.Version, o.UntaggedRequests) = ("V2", UntaggedRequestPolicy.Prod)), Mixed, null, Reach: [1, 3]),
        new("untagged with UntaggedRequests=All reaches every version", Options(o => (o.Version, o.UntaggedRequests) = ("V2", UntaggedRequestPolicy.All)), Mixed, null, Reach: [1, 2, 3, 4]),
        new("per-service versions override the defaults", Options(o => o.Services[Service] = new GrayServiceOptions { GrayVersion = "V1" }), Mixed, GrayStatus.Gray, Reach: [1, 3]),
        new("switched off: every version", Options(o => o.Enabled = false), Mixed, GrayStatus.Gray, Reach: [1, 2, 3, 4]),
        new("missing gray version fails naming service, mode and versions", Options(), [I(1, "V1"), I(3, "V3")], GrayStatus.Gray, Fails: "'user-app' for mode GRAY (wanted version: V2; available versions: V1, V3)"),
        new("FallbackToProd sends gray to prod", Options(o => o.NoInstancePolicy = NoInstancePolicy.FallbackToProd), [I(1, "V1"), I(3, "V3")], GrayStatus.Gray, Reach: [1]),
        new("FallbackToProd without a prod version reaches every version", Options(o => (o.ProdVersion, o.NoInstancePolicy) = (null, NoInstancePolicy.FallbackToProd)), [I(1, "V1"), I(3, "V3")], GrayStatus.Gray, Reach: [1, 3]),
        new("FallbackToProd fails when prod is missing too", Options(o => (o.ProdVersion, o.NoInstancePolicy) = ("V8", NoInstancePolicy.FallbackToProd)), [I(1, "V1"), I(3, "V3")], GrayStatus.Gray, Fails: "wanted version: V2; available versions: V1, V3"),
        new("FallbackToAll sends gray anywhere", Options(o => o.NoInstancePolicy = NoInstancePolicy.FallbackToAll), [I(1, "V1"), I(3, "V3")], GrayStatus.Gray, Reach: [1, 3]),
        new("no instance at all fails for every status", Options(o => o.NoInstancePolicy = NoInstancePolicy.FallbackToAll), [I(1, "V1", weight: 0)], GrayStatus.All, Fails: "(wanted version: any; available versions: none)"),
        new("weight 0 is never picked", Options(), [I(1, "V1"), I(3, "V1", weight: 0), I(5, "V2", weight: 0)], GrayStatus.Prod, Reach: [1]),
        new("weights are honoured", Options(), [I(1, "V1", weight: 1), I(2, "V1", weight: 2.5), I(3, "V1", weight: 0.5)], GrayStatus.Prod, Reach: [1, 2, 3], Shares: [200, 500, 100]),
        new("a failed instance is skipped", Options(), [I(1, "V1"), I(3, "V1"), I(5, "V1")], GrayStatus.Prod, Reach: [1, 5], Failed: 3),
    }.ToDictionary(c => c.Name);

    private static Inst[] Mixed => [I(1, "V1"), I(2, "V2"), I(3, "V1"), I(4, "V2")];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Both_adapters_route_alike(string name)
    {
        var routingCase = AllCases[name];
        using var balancer = new LoadBalancerAdapter(routingCase);
        var gateway = new GatewayAdapter(routingCase);
        var picks = routingCase.Shares is null ? 12 : 800;

        var fromBalancer = await balancer.PickAsync(routingCase.Status, picks);
        var fromGateway = gateway.Pick(routingCase.Status, picks);

        foreach (var (adapter, outcome) in new[] { ("load balancer", fromBalancer), ("gateway", fromGateway) })
        {
            if (routingCase.Fails is { } reason)
            {
                Assert.True(outcome.Failure is not null, $"{adapter}: expected a failure, picked {string.Join(",", outcome.Picks)}");
                Assert.Contains(reason, outcome.Failure, StringComparison.Ordinal);
                continue;
            }

            Assert.True(outcome.Failure is null, $"{adapter}: {outcome.Failure}");
            Assert.Equal(routingCase.Reach!, outcome.Picks.Distinct().Order());
            if (routingCase.Shares is { } shares)
            {
                Assert.Equal(shares, routingCase.Reach!.Select(port => outcome.Picks.Count(p => p == port)));
            }
        }

        // The same core and the same rotation: not only the same set, the same order. (A failed member is skipped in place
        // by the load balancer but removed from the list by YARP's health check, so only its set is compared.)
        if (routingCase.Failed is null)
        {
            Assert.Equal(fromBalancer.Picks, fromGateway.Picks);
        }

        Assert.Equal(fromBalancer.Failure, fromGateway.Failure);
    }

    private static GrayReleaseOptions Options(Action<GrayReleaseOptions>? configure = null)
    {
        var options = new GrayReleaseOptions { ProdVersion = "V1", GrayVersion = "V2" };
        configure?.Invoke(options);
        return options;
    }

    private static Inst I(int port, string version, double weight = 1) => new(port, version, weight);

    internal sealed record Inst(int Port, string Version, double Weight);

    internal sealed record RoutingCase(string Name, GrayReleaseOptions Options, Inst[] Instances, GrayStatus? Status, int[]? Reach = null, string? Fails = null, int[]? Shares = null, int? Failed = null);

    internal sealed record Outcome(List<int> Picks, string? Failure);

    /// <summary>The services' side: <see cref="GrayLoadBalancer"/> over a registry provider; a refused connection quarantines.</summary>
    private sealed class LoadBalancerAdapter : IDisposable
    {
        private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        private readonly GrayLoadBalancer _balancer;
        private readonly RoutingCase _case;

        public LoadBalancerAdapter(RoutingCase routingCase)
        {
            _case = routingCase;
            var provider = new TestInstanceProvider();
            _balancer = new GrayLoadBalancer(provider, new StaticOptionsMonitor<GrayReleaseOptions>(routingCase.Options), new FakeTimeProvider(), new GrayReleaseMetrics(_services.GetRequiredService<IMeterFactory>()), NullLogger<GrayLoadBalancer>.Instance);
            provider.SetInstances(Service, [.. routingCase.Instances.Select(i => TestInstanceProvider.Instance(Service, "127.0.0.1", i.Port, i.Version, weight: i.Weight))]);
        }

        public async Task<Outcome> PickAsync(GrayStatus? status, int count)
        {
            var picks = new List<int>();
            try
            {
                if (_case.Failed is { } failed)
                {
                    _balancer.ReportConnectionFailure(new ServiceInstance { ServiceName = Service, Host = "127.0.0.1", Port = failed });
                }

                for (var i = 0; i < count; i++)
                {
                    picks.Add((await _balancer.PickAsync(Service, status))!.Port);
                }
            }
            catch (NoAvailableInstanceException exception)
            {
                return new Outcome(picks, exception.Message);
            }

            return new Outcome(picks, null);
        }

        public void Dispose()
        {
            _balancer.Dispose();
            _services.Dispose();
        }
    }

    /// <summary>
    /// The gateway's side: the destinations the resolver makes of the same instances, the version filter, then the
    /// GrayRoundRobin policy. A refused destination leaves YARP's available list (its passive health check), which is
    /// how the gateway skips it.
    /// </summary>
    private sealed class GatewayAdapter(RoutingCase routingCase)
    {
        private static readonly HttpMessageInvoker Client = new(new SocketsHttpHandler());

        public Outcome Pick(GrayStatus? status, int count)
        {
            var cluster = new ClusterState("user-cluster", new ClusterModel(new ClusterConfig { ClusterId = "user-cluster", Metadata = new Dictionary<string, string> { [GrayReleaseProxy.ServiceMetadataKey] = Service } }, Client));
            var filter = new VersionFilter(new StaticOptionsMonitor<GrayReleaseOptions>(routingCase.Options), NullLogger<VersionFilter>.Instance);
            var policy = new GrayRoundRobinLoadBalancingPolicy(filter, NullLogger<GrayRoundRobinLoadBalancingPolicy>.Instance);
            DestinationState[] available = [.. routingCase.Instances.Where(i => i.Port != routingCase.Failed).Select(Destination)];

            using var scope = status is { } known ? GrayContext.Begin(known) : GrayContext.Suppress();
            var picks = new List<int>();
            var set = filter.Select(cluster, cluster.Model, available, out var failure);
            if (set is null)
            {
                return new Outcome(picks, failure!.Message);
            }

            for (var i = 0; i < count; i++)
            {
                picks.Add(int.Parse(policy.PickDestination(new DefaultHttpContext(), cluster, set)!.DestinationId, System.Globalization.CultureInfo.InvariantCulture));
            }

            return new Outcome(picks, null);
        }

        private static DestinationState Destination(Inst instance) => new(
            instance.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            new DestinationModel(new DestinationConfig
            {
                Address = $"http://127.0.0.1:{instance.Port}",
                Metadata = new Dictionary<string, string>
                {
                    ["version"] = instance.Version,
                    [GrayReleaseProxy.WeightMetadataKey] = instance.Weight.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                },
            }));
    }
}
