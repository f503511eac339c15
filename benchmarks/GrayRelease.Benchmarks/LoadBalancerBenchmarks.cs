using BenchmarkDotNet.Attributes;
using GrayRelease.Diagnostics;
using GrayRelease.Discovery;
using GrayRelease.LoadBalancing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using System.Diagnostics.Metrics;

namespace GrayRelease.Benchmarks;

/// <summary>
/// One pick among N instances of mixed versions (10 % gray): our precomputed per-version groups versus the
/// original design, which filters the whole list on every request and then round-robins over the result.
/// </summary>
[MemoryDiagnoser]
public class LoadBalancerBenchmarks
{
    private GrayLoadBalancer _balancer = null!;
    private OriginalDesignBaseline _baseline = null!;
    private ServiceProvider _services = null!;

    [Params(10, 100, 1000)]
    public int Instances { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var instances = Enumerable.Range(0, Instances).Select(i => new ServiceInstance
        {
            ServiceName = "user-app",
            Host = "10.0.0." + (i % 250),
            Port = 7000 + i,
            Metadata = new Dictionary<string, string> { ["version"] = i % 10 == 0 ? "V2" : "V1" },
        }).ToArray();

        var provider = new StaticProvider(instances);
        var options = new StaticOptionsMonitor(new GrayReleaseOptions { ProdVersion = "V1", GrayVersion = "V2" });
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _balancer = new GrayLoadBalancer(provider, options, TimeProvider.System, new GrayReleaseMetrics(_services.GetRequiredService<IMeterFactory>()), NullLogger<GrayLoadBalancer>.Instance);
        _ = _balancer.PickAsync("user-app", GrayStatus.Gray).AsTask().GetAwaiter().GetResult();
        _baseline = new OriginalDesignBaseline(instances, options.CurrentValue);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _balancer.Dispose();
        _services.Dispose();
    }

    [Benchmark(Baseline = true, Description = "original: filter per request")]
    public ServiceInstance OriginalDesign() => _baseline.Pick(GrayStatus.Gray);

    [Benchmark(Description = "GrayRelease: precomputed groups")]
    public ServiceInstance? GrayLoadBalancer()
    {
        var pick = _balancer.PickAsync("user-app", GrayStatus.Gray);
        return pick.IsCompletedSuccessfully ? pick.Result : null;
    }

    private sealed class StaticProvider(IReadOnlyList<ServiceInstance> instances) : IServiceInstanceProvider
    {
        public event EventHandler<ServiceInstancesChangedEventArgs>? InstancesChanged { add { } remove { } }

        public ValueTask<IReadOnlyList<ServiceInstance>?> GetInstancesAsync(string serviceName, CancellationToken cancellationToken = default) =>
            new(instances);
    }
}

/// <summary>The Java original's rule: reachable servers → filter by metadata version into a new list → round-robin.</summary>
internal sealed class OriginalDesignBaseline(IReadOnlyList<ServiceInstance> instances, GrayReleaseOptions options)
{
    private int _counter;

    public ServiceInstance Pick(GrayStatus status)
    {
        var reachable = new List<ServiceInstance>();
        foreach (var instance in instances)
        {
            if (instance.Healthy && instance.Enabled)
            {
                reachable.Add(instance);
            }
        }

        var wanted = status == GrayStatus.Gray ? options.GrayVersion : options.ProdVersion;
        var result = new List<ServiceInstance>();
        foreach (var server in reachable)
        {
            if (server.Metadata.TryGetValue("version", out var version) && version == wanted)
            {
                result.Add(server);
            }
        }

        var next = Interlocked.Increment(ref _counter) & int.MaxValue;
        return result[next % result.Count];
    }
}

internal sealed class StaticOptionsMonitor(GrayReleaseOptions options) : IOptionsMonitor<GrayReleaseOptions>
{
    public GrayReleaseOptions CurrentValue { get; } = options;

    public GrayReleaseOptions Get(string? name) => CurrentValue;

    public IDisposable? OnChange(Action<GrayReleaseOptions, string?> listener) => null;
}
