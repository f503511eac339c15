using System.Net;
using BenchmarkDotNet.Attributes;
using GrayRelease.Yarp;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace GrayRelease.Gateway.Benchmarks;

/// <summary>
/// The per-request work the gray gateway adds: the decision (configured rules) and the version filter, next to the
/// original design's filter, which builds a new list of the wanted version's destinations on every request.
/// </summary>
[MemoryDiagnoser]
public class GatewayPipelineBenchmarks
{
    private GrayRuleSet _rules = null!;
    private DefaultHttpContext _prodRequest = null!;
    private DefaultHttpContext _grayRequest = null!;
    private VersionFilter _filter = null!;
    private ClusterState _cluster = null!;
    private DestinationState[] _destinations = null!;

    [Params(2, 20, 200)]
    public int Destinations { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var options = new GrayGatewayOptions
        {
            Enabled = true,
            IpList = [.. Enumerable.Range(0, 50).Select(i => $"10.{i}.0.0/16")],
            UserIdList = [.. Enumerable.Range(0, 1000).Select(i => $"tester-{i}")],
            UserIdHeader = "X-User-Id",
            Percentage = 5,
        };
        _rules = GrayRuleSet.Compile(options, [], new NoCities());
        _prodRequest = Request("203.0.113.10", "user-123456");
        _grayRequest = Request("10.42.0.7", null);

        _filter = new VersionFilter(new Monitor<GrayReleaseOptions>(new GrayReleaseOptions { ProdVersion = "v1", GrayVersion = "v2" }), NullLogger<VersionFilter>.Instance);
        _cluster = new ClusterState("orders", new ClusterModel(new ClusterConfig { ClusterId = "orders" }, new HttpMessageInvoker(new SocketsHttpHandler())));
        _destinations = [.. Enumerable.Range(0, Destinations).Select(i => new DestinationState(
            $"d{i}",
            new DestinationModel(new DestinationConfig
            {
                Address = $"http://10.0.0.{i % 250}:{7000 + i}",
                Metadata = new Dictionary<string, string> { ["version"] = i % 2 == 0 ? "v1" : "v2" },
            })))];
    }

    [Benchmark]
    public GrayStatus Decide_prod_request() => _rules.Decide(_prodRequest).Status;

    [Benchmark]
    public GrayStatus Decide_gray_request() => _rules.Decide(_grayRequest).Status;

    [Benchmark]
    public int Filter_gray_request()
    {
        using var scope = GrayContext.Begin(GrayStatus.Gray);
        return _filter.Select(_cluster, _cluster.Model, _destinations, out _)!.Count;
    }

    [Benchmark(Baseline = true)]
    public int Filter_gray_request_original_design()
    {
        using var scope = GrayContext.Begin(GrayStatus.Gray);
        var result = new List<DestinationState>();
        foreach (var destination in _destinations)
        {
            if (destination.Model.Config.Metadata!.TryGetValue("version", out var version) && version == "v2")
            {
                result.Add(destination);
            }
        }

        return result.Count;
    }

    private static DefaultHttpContext Request(string address, string? userId)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(address);
        if (userId is not null)
        {
            context.Request.Headers["X-User-Id"] = userId;
        }

        return context;
    }

    private sealed class NoCities : ICityResolver
    {
        public string? ResolveCity(IPAddress address) => null;
    }

    private sealed class Monitor<T>(T value) : IOptionsMonitor<T>
    {
        public T CurrentValue => value;

        public T Get(string? name) => value;

        public IDisposable? OnChange(Action<T, string?> listener) => null;
    }
}
