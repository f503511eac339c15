using System.Diagnostics.Metrics;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using GrayRelease.Diagnostics;
using GrayRelease.Discovery;
using GrayRelease.Grpc.Balancing;
using GrayRelease.Grpc.Tests.Infrastructure;
using GrayRelease.Grpc.Tests.Protos;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Grpc.Tests;

/// <summary>
/// Issue 15: the gRPC picker records the same <c>grayrelease.loadbalancer.picks</c> / <c>no_instance</c> counters as the
/// HttpClient path (meter <c>GrayRelease</c>, tags <c>service</c>, <c>version</c> / <c>status</c>, <c>lane</c>), and a
/// pick still allocates nothing while they are listened to.
/// </summary>
public sealed class GrpcPickerMetricsTests
{
    private const string Service = "user-app";

    [Fact]
    public async Task Every_pick_is_counted_by_service_version_and_lane()
    {
        await using var v1 = await EchoServer.StartAsync("v1");
        await using var v2 = await EchoServer.StartAsync("v2");
        await using var blue = await EchoServer.StartAsync("v1", lane: "blue");
        var provider = new TestInstanceProvider();
        provider.Set(Service, v1.Instance(), v2.Instance(), blue.Instance());
        await using var services = BuildClient(provider);
        using var picks = new MetricCollector<long>(services.GetRequiredService<IMeterFactory>(), GrayReleaseMetrics.MeterName, "grayrelease.loadbalancer.picks");
        var client = services.GetRequiredService<Echo.EchoClient>();

        await CallAsync(client, () => GrayContext.Begin(GrayStatus.Gray), 3);
        await CallAsync(client, () => GrayContext.Begin(GrayStatus.Prod), 2);
        await CallAsync(client, () => GrayContext.BeginLane("blue"), 4);

        // Only picks that sent a call: a pick the channel queued while connecting is no pick.
        var measurements = picks.GetMeasurementSnapshot();
        Assert.All(measurements, m => Assert.Equal(Service, m.Tags["service"]));
        Assert.Equal(3, Sum(measurements, "v2", string.Empty));
        Assert.Equal(2, Sum(measurements, "v1", string.Empty));
        Assert.Equal(4, Sum(measurements, "v1", "blue"));
        Assert.Equal(9, measurements.Sum(m => m.Value));
    }

    [Fact]
    public async Task A_call_with_no_instance_of_its_version_is_counted_with_its_status_and_a_bounded_lane_tag()
    {
        await using var v1 = await EchoServer.StartAsync("v1");
        var provider = new TestInstanceProvider();
        provider.Set(Service, v1.Instance());
        await using var services = BuildClient(provider);
        using var failures = new MetricCollector<long>(services.GetRequiredService<IMeterFactory>(), GrayReleaseMetrics.MeterName, "grayrelease.loadbalancer.no_instance");
        var client = services.GetRequiredService<Echo.EchoClient>();

        // Connect first, so that the failures below are the picker's "none of that version", not "still connecting".
        await CallAsync(client, () => GrayContext.Begin(GrayStatus.Prod), 1);
        using (GrayContext.Begin(GrayStatus.Gray))
        {
            var exception = await Assert.ThrowsAsync<RpcException>(async () => await client.WhoAsync(new WhoRequest(), deadline: Deadline()));
            Assert.Equal(StatusCode.Unavailable, exception.StatusCode);
        }

        // A lane nobody configured or registered (a client may send any): permissive, so the baseline, which has no v2;
        // its name must not become a tag value.
        var invented = "invented-" + Guid.NewGuid().ToString("N");
        using (GrayContext.BeginLane(invented))
        using (GrayContext.Begin(GrayStatus.Gray))
        {
            await Assert.ThrowsAsync<RpcException>(async () => await client.WhoAsync(new WhoRequest(), deadline: Deadline()));
        }

        var measurements = failures.GetMeasurementSnapshot();
        Assert.Equal(2, measurements.Count);
        Assert.All(measurements, m => Assert.Equal(Service, m.Tags["service"]));
        Assert.All(measurements, m => Assert.Equal("GRAY", m.Tags["status"]));
        Assert.Equal(string.Empty, measurements[0].Tags["lane"]);
        Assert.Equal(GrayReleaseMetrics.UnknownLane, measurements[1].Tags["lane"]);
        Assert.DoesNotContain(measurements, m => (string?)m.Tags["lane"] == invented);
        Assert.Equal(1, v1.Calls);
    }

    [Fact]
    public async Task A_pick_allocates_nothing_while_the_counters_are_listened_to()
    {
        await using var v1 = await EchoServer.StartAsync("v1");
        await using var v2 = await EchoServer.StartAsync("v2");
        await using var blue = await EchoServer.StartAsync("v1", lane: "blue");
        var provider = new TestInstanceProvider();
        provider.Set(Service, v1.Instance(), v2.Instance(), blue.Instance());
        var probe = new PickerProbe();
        await using var services = BuildClient(provider);

        // The channel built by hand with a policy that is our balancer behind a controller that hands the test each
        // picker the balancer publishes: the picker the channel itself uses, over real connected subchannels.
        using var channel = GrpcChannel.ForAddress($"nacos://{Service}", new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Insecure,
            ServiceProvider = new ProbeServices(services, new ProbeFactory(services.GetRequiredService<GrayOptionsSnapshot>(), services.GetRequiredService<GrayReleaseMetrics>(), probe)),
            ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new LoadBalancingConfig(ProbeFactory.PolicyName) } },
        });
        var client = new Echo.EchoClient(channel);
        await ConnectAllAsync(client, 3);
        var picker = probe.Latest ?? throw new InvalidOperationException("the balancer published no picker");

        long counted = 0;
        var meterFactory = services.GetRequiredService<IMeterFactory>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // This client's meter only (its scope is the container's factory): tests in parallel record on theirs.
            if (instrument.Meter.Name == GrayReleaseMetrics.MeterName && instrument.Name == "grayrelease.loadbalancer.picks" && ReferenceEquals(instrument.Meter.Scope, meterFactory))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => counted += value);
        listener.Start();

        var context = new PickContext();
        var scopes = new Func<IDisposable>[] { () => GrayContext.Begin(GrayStatus.Gray), () => GrayContext.Begin(GrayStatus.Prod), () => GrayContext.BeginLane("blue") };
        foreach (var scope in scopes)
        {
            using (scope())
            {
                for (var i = 0; i < 100; i++)
                {
                    Assert.Equal(PickResultType.Complete, picker.Pick(context).Type);
                }

                counted = 0;
                var before = GC.GetAllocatedBytesForCurrentThread();
                for (var i = 0; i < 1000; i++)
                {
                    picker.Pick(context);
                }

                Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
                Assert.Equal(1000, counted); // the counter was really listened to on the measured path
            }
        }
    }

    private static long Sum(IReadOnlyList<CollectedMeasurement<long>> measurements, string version, string lane) =>
        measurements.Where(m => (string?)m.Tags["version"] == version && (string?)m.Tags["lane"] == lane).Sum(m => m.Value);

    private static async Task CallAsync(Echo.EchoClient client, Func<IDisposable> scope, int count)
    {
        using (scope())
        {
            for (var i = 0; i < count; i++)
            {
                await client.WhoAsync(new WhoRequest(), deadline: Deadline());
            }
        }
    }

    // Until every instance has served a call, so every subchannel is connected and in the picker.
    private static async Task ConnectAllAsync(Echo.EchoClient client, int instances)
    {
        var ports = new HashSet<int>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var scopes = new Func<IDisposable>[] { () => GrayContext.Begin(GrayStatus.Gray), () => GrayContext.Begin(GrayStatus.Prod), () => GrayContext.BeginLane("blue") };
        while (ports.Count < instances)
        {
            Assert.False(timeout.IsCancellationRequested, "not every instance served a call within 30 s");
            foreach (var scope in scopes)
            {
                using (scope())
                {
                    ports.Add((await client.WhoAsync(new WhoRequest(), deadline: Deadline())).Port);
                }
            }
        }
    }

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(30);

    private static ServiceProvider BuildClient(IServiceInstanceProvider provider)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["GrayRelease:ProdVersion"] = "v1",
            ["GrayRelease:GrayVersion"] = "v2",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddGrayRelease(configuration);
        services.AddSingleton(provider);
        services.AddGrpcClient<Echo.EchoClient>(o => o.Address = new Uri($"nacos://{Service}")).AddGrayReleaseGrpc();
        return services.BuildServiceProvider();
    }

    /// <summary>Keeps the last picker the balancer published.</summary>
    private sealed class PickerProbe
    {
        private SubchannelPicker? _latest;

        public SubchannelPicker? Latest => Volatile.Read(ref _latest);

        public void Set(SubchannelPicker picker) => Volatile.Write(ref _latest, picker);
    }

    private sealed class ProbeFactory(GrayOptionsSnapshot snapshot, GrayReleaseMetrics metrics, PickerProbe probe) : LoadBalancerFactory
    {
        public const string PolicyName = "gray-probe";

        public override string Name => PolicyName;

        public override LoadBalancer Create(LoadBalancerOptions options) =>
            new GrayGrpcLoadBalancer(new ProbeController(options.Controller, probe), options.LoggerFactory, snapshot, metrics);
    }

    private sealed class ProbeController(IChannelControlHelper inner, PickerProbe probe) : IChannelControlHelper
    {
        public Subchannel CreateSubchannel(SubchannelOptions options) => inner.CreateSubchannel(options);

        public void UpdateState(BalancerState state)
        {
            probe.Set(state.Picker);
            inner.UpdateState(state);
        }

        public void RefreshResolver() => inner.RefreshResolver();
    }

    /// <summary>The client's services, plus the probe policy (the channel asks its service provider for factories).</summary>
    private sealed class ProbeServices(IServiceProvider inner, LoadBalancerFactory probe) : IServiceProvider
    {
        public object? GetService(Type serviceType) =>
            serviceType == typeof(IEnumerable<LoadBalancerFactory>)
                ? new LoadBalancerFactory[] { probe }
                : inner.GetService(serviceType);
    }
}
