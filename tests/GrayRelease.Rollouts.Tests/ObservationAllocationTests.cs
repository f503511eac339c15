using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace GrayRelease.Rollouts.Tests;

/// <summary>Issue 14: what observation adds to a proxied request, in bytes, and when it observes.</summary>
public sealed class ObservationAllocationTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().AddOptions().BuildServiceProvider();
    private readonly ClusterModel _cluster = new(new ClusterConfig { ClusterId = "orders" }, new HttpMessageInvoker(new SocketsHttpHandler()));
    private readonly DestinationState _destination = new("v2", new DestinationModel(new DestinationConfig
    {
        Address = "http://10.0.0.6:7102",
        Metadata = new Dictionary<string, string> { ["version"] = "V2" },
    }));

    public void Dispose()
    {
        _cluster.HttpClient.Dispose();
        _services.Dispose();
    }

    [Fact]
    public async Task Observing_a_request_whose_forwarding_goes_asynchronous_allocates_nothing()
    {
        // Forwarding completes asynchronously, as a real one does: the observation must not box a state machine per
        // request (the ≈ 130 B per request the gateway benchmarks showed with a rollout running).
        var observer = CreateObserver();
        var inner = new PendingForwarder();
        var forwarder = new ObservingForwarder(inner, observer);
        forwarder.StartObserving();

        for (var i = 0; i < 6; i++)
        {
            inner.Pending = new TaskCompletionSource<ForwarderError>();
            var context = Request();
            var before = GC.GetAllocatedBytesForCurrentThread();
            var sent = forwarder.SendAsync(context, "http://10.0.0.6:7102", _cluster.HttpClient, ForwarderRequestConfig.Empty, HttpTransformer.Default);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.False(sent.IsCompleted);

            // Completed on this thread and awaited once, as YARP's forwarder middleware does: the state machine goes
            // back to the pool here and is taken again by the next request.
            inner.Pending.SetResult(ForwarderError.None);
            Assert.Equal(ForwarderError.None, await sent);

            // The first requests create the series and fill the pool.
            if (i >= 2)
            {
                Assert.Equal(0, allocated);
            }
        }

        Assert.Equal(6, observer.ReadAll()[new SeriesKey("orders", "V2", string.Empty)].Requests);
    }

    [Fact]
    public async Task Nothing_is_observed_before_UseGrayReleaseObservation_nor_without_the_proxy_feature()
    {
        var observer = CreateObserver();
        var inner = new PendingForwarder { Pending = new TaskCompletionSource<ForwarderError>() };
        inner.Pending.SetResult(ForwarderError.None);
        var forwarder = new ObservingForwarder(inner, observer);

        await forwarder.SendAsync(Request(), "http://10.0.0.6:7102", _cluster.HttpClient, ForwarderRequestConfig.Empty, HttpTransformer.Default);
        Assert.Empty(observer.ReadAll());

        // Direct forwarding (IHttpForwarder used by an application's own endpoint) is not a proxied request.
        forwarder.StartObserving();
        await forwarder.SendAsync(new DefaultHttpContext(), "http://10.0.0.6:7102", _cluster.HttpClient, ForwarderRequestConfig.Empty, HttpTransformer.Default);
        Assert.Empty(observer.ReadAll());

        await forwarder.SendAsync(Request(), "http://10.0.0.6:7102", _cluster.HttpClient, ForwarderRequestConfig.Empty, HttpTransformer.Default);
        Assert.Equal(1, observer.ReadAll()[new SeriesKey("orders", "V2", string.Empty)].Requests);
        Assert.Equal(3, inner.Calls);
    }

    [Fact]
    public async Task A_forwarder_registered_before_AddGrayReleaseRollout_is_wrapped_and_one_registered_after_is_refused()
    {
        var own = new PendingForwarder { Pending = new TaskCompletionSource<ForwarderError>() };
        own.Pending.SetResult(ForwarderError.None);
        var before = WebApplication.CreateSlimBuilder();
        before.Services.AddSingleton<IHttpForwarder>(own);
        before.Services.AddReverseProxy().LoadFromMemory([], []).AddGrayReleaseRollout();
        await using (var app = before.Build())
        {
            app.MapReverseProxy(p => p.UseGrayReleaseObservation());
            var forwarder = Assert.IsType<ObservingForwarder>(app.Services.GetRequiredService<IHttpForwarder>());
            Assert.True(forwarder.Observing);
            await forwarder.SendAsync(Request(), "http://10.0.0.6:7102", _cluster.HttpClient, ForwarderRequestConfig.Empty, HttpTransformer.Default);
            Assert.Equal(1, own.Calls);
        }

        // Registered again after the rollout: YARP would forward past the wrapper and nothing would be counted.
        var after = WebApplication.CreateSlimBuilder();
        after.Services.AddReverseProxy().LoadFromMemory([], []).AddGrayReleaseRollout();
        after.Services.AddSingleton<IHttpForwarder>(own);
        await using var bypassed = after.Build();
        var error = Assert.Throws<InvalidOperationException>(() => bypassed.MapReverseProxy(p => p.UseGrayReleaseObservation()));
        Assert.Contains("before calling AddGrayReleaseRollout()", error.Message, StringComparison.Ordinal);
    }

    private TrafficObserver CreateObserver() =>
        new(_services.GetRequiredService<IOptionsMonitor<GrayReleaseOptions>>(), _services.GetRequiredService<IMeterFactory>());

    private DefaultHttpContext Request()
    {
        var context = new DefaultHttpContext();
        context.Features.Set<IReverseProxyFeature>(new ReverseProxyFeature
        {
            Cluster = _cluster,
            AllDestinations = [_destination],
            AvailableDestinations = [_destination],
            ProxiedDestination = _destination,
        });
        return context;
    }

    private sealed class PendingForwarder : IHttpForwarder
    {
        public TaskCompletionSource<ForwarderError> Pending { get; set; } = null!;

        public int Calls { get; private set; }

        public ValueTask<ForwarderError> SendAsync(HttpContext context, string destinationPrefix, HttpMessageInvoker httpClient, ForwarderRequestConfig requestConfig, HttpTransformer transformer)
        {
            Calls++;
            return new ValueTask<ForwarderError>(Pending.Task);
        }

        public ValueTask<ForwarderError> SendAsync(HttpContext context, string destinationPrefix, HttpMessageInvoker httpClient, ForwarderRequestConfig requestConfig, HttpTransformer transformer, CancellationToken cancellationToken) =>
            SendAsync(context, destinationPrefix, httpClient, requestConfig, transformer);
    }
}
