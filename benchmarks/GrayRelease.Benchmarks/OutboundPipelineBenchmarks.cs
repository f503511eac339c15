using System.Diagnostics.Metrics;
using System.Net;
using BenchmarkDotNet.Attributes;
using GrayRelease.Diagnostics;
using GrayRelease.Discovery;
using GrayRelease.Http;
using GrayRelease.LoadBalancing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace GrayRelease.Benchmarks;

/// <summary>
/// The whole outbound gray pipeline for one call (propagation handler → load-balancing handler → stubbed transport),
/// against the same message sent through the stub alone.
/// </summary>
[MemoryDiagnoser]
public class OutboundPipelineBenchmarks
{
    private static readonly Task<HttpResponseMessage> Ok = Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
    private HttpMessageInvoker _gray = null!;
    private HttpMessageInvoker _plain = null!;
    private ServiceProvider _services = null!;
    private GrayLoadBalancer _balancer = null!;
    private HttpRequestMessage _request = null!;

    [GlobalSetup]
    public void Setup()
    {
        var instances = Enumerable.Range(0, 100).Select(i => new ServiceInstance
        {
            ServiceName = "user-app",
            Host = "10.0.0." + i,
            Port = 7000 + i,
            Metadata = new Dictionary<string, string> { ["version"] = i % 10 == 0 ? "V2" : "V1" },
        }).ToArray();
        var options = new StaticOptionsMonitor(new GrayReleaseOptions { ProdVersion = "V1", GrayVersion = "V2" });
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _balancer = new GrayLoadBalancer(new ListProvider(instances), options, TimeProvider.System, new GrayReleaseMetrics(_services.GetRequiredService<IMeterFactory>()), NullLogger<GrayLoadBalancer>.Instance);

        var loadBalancing = new GrayLoadBalancingHandler(_balancer) { InnerHandler = new StubTransport() };
        _gray = new HttpMessageInvoker(new GrayPropagationHandler(options) { InnerHandler = loadBalancing });
        _plain = new HttpMessageInvoker(new StubTransport());
        _request = new HttpRequestMessage(HttpMethod.Get, "http://user-app/users/1");
        GrayContext.Begin(GrayStatus.Gray);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _gray.Dispose();
        _plain.Dispose();
        _balancer.Dispose();
        _services.Dispose();
    }

    [Benchmark(Baseline = true, Description = "stub transport only")]
    public Task<HttpResponseMessage> Plain() => _plain.SendAsync(_request, CancellationToken.None);

    [Benchmark(Description = "propagation + load balancing + stub")]
    public async Task<HttpResponseMessage> GrayPipeline()
    {
        var response = await _gray.SendAsync(_request, CancellationToken.None).ConfigureAwait(false);
        _request.Headers.Remove("gray"); // the same message is reused; a real call sends a new one
        return response;
    }

    private sealed class StubTransport : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => Ok;
    }

    private sealed class ListProvider(IReadOnlyList<ServiceInstance> instances) : IServiceInstanceProvider
    {
        public event EventHandler<ServiceInstancesChangedEventArgs>? InstancesChanged { add { } remove { } }

        public ValueTask<IReadOnlyList<ServiceInstance>?> GetInstancesAsync(string serviceName, CancellationToken cancellationToken = default) => new(instances);
    }
}
