using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using GrayRelease.Diagnostics;
using GrayRelease.Discovery;
using GrayRelease.LoadBalancing;
using GrayRelease.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace GrayRelease.Benchmarks;

/// <summary>
/// One pick among 1,000 instances spread over the baseline and 0 / 5 / 20 lanes, each with two versions: a GRAY request
/// in a lane (or without one when there are no lanes). The cost must not grow with the number of lanes.
/// "pick in a lane" is the handler's path: the request's lane was interned once when its context began (the gateway's
/// decision or the inbound middleware), so the pick gets the key. "pick in a lane by name" is the public
/// <c>IGrayLoadBalancer.PickInLaneAsync</c>, which looks the name up on every call.
/// </summary>
[MemoryDiagnoser]
public class LaneLoadBalancerBenchmarks
{
    private GrayLoadBalancer _balancer = null!;
    private ServiceProvider _services = null!;
    private string? _lane;
    private LaneKey? _laneKey;

    [Params(0, 5, 20)]
    public int Lanes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var instances = Enumerable.Range(0, 1000).Select(i =>
        {
            var metadata = new Dictionary<string, string> { ["version"] = i % 2 == 0 ? "V2" : "V1" };
            var lane = Lanes == 0 ? -1 : (i / 2) % (Lanes + 1) - 1;
            if (lane >= 0)
            {
                metadata["lane"] = "lane-" + lane;
            }

            return new ServiceInstance { ServiceName = "user-app", Host = "10.0." + (i / 250) + "." + (i % 250), Port = 7000 + i, Metadata = metadata };
        }).ToArray();

        var options = new StaticOptionsMonitor(new GrayReleaseOptions { ProdVersion = "V1", GrayVersion = "V2" });
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _balancer = new GrayLoadBalancer(new StaticProvider(instances), options, TimeProvider.System, new GrayReleaseMetrics(_services.GetRequiredService<IMeterFactory>()), NullLogger<GrayLoadBalancer>.Instance);
        _lane = Lanes == 0 ? null : "lane-" + (Lanes - 1);
        _ = _balancer.PickInLaneAsync("user-app", GrayStatus.Gray, _lane).AsTask().GetAwaiter().GetResult();
        _laneKey = LaneRegistry.Find(_lane);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _balancer.Dispose();
        _services.Dispose();
    }

    [Benchmark(Description = "pick in a lane")]
    public ServiceInstance? Pick()
    {
        var pick = _balancer.PickInLaneAsync("user-app", GrayStatus.Gray, _laneKey, _lane);
        return pick.IsCompletedSuccessfully ? pick.Result : null;
    }

    [Benchmark(Description = "pick in a lane by name")]
    public ServiceInstance? PickByName()
    {
        var pick = _balancer.PickInLaneAsync("user-app", GrayStatus.Gray, _lane);
        return pick.IsCompletedSuccessfully ? pick.Result : null;
    }

    private sealed class StaticProvider(IReadOnlyList<ServiceInstance> instances) : IServiceInstanceProvider
    {
        public event EventHandler<ServiceInstancesChangedEventArgs>? InstancesChanged { add { } remove { } }

        public ValueTask<IReadOnlyList<ServiceInstance>?> GetInstancesAsync(string serviceName, CancellationToken cancellationToken = default) =>
            new(instances);
    }
}
