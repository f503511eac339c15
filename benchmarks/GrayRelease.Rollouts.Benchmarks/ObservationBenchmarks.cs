using System.Diagnostics;
using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace GrayRelease.Rollouts.Benchmarks;

/// <summary>
/// What observation adds to one proxied request: the observer's record (destination lookup, counters, ring, the
/// metric's enabled check) and, in <see cref="RecordWithTiming"/>, the two timestamps taken around the forwarding.
/// Target: at most 50 ns and 0 B per request.
/// </summary>
[MemoryDiagnoser]
public class ObservationBenchmarks
{
    private TrafficObserver _observer = null!;
    private DestinationModel _destination = null!;
    private ClusterModel _cluster = null!;
    private MeterListener? _listener;

    /// <summary>Whether an OpenTelemetry-style listener collects the duration histogram.</summary>
    [Params(false, true)]
    public bool Listened { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection().AddMetrics().AddOptions().BuildServiceProvider();
        _observer = new TrafficObserver(services.GetRequiredService<IOptionsMonitor<GrayReleaseOptions>>(), services.GetRequiredService<IMeterFactory>());
        _cluster = new ClusterModel(new ClusterConfig { ClusterId = "orders" }, new HttpMessageInvoker(new SocketsHttpHandler()));
        _destination = new DestinationModel(new DestinationConfig
        {
            Address = "http://10.0.0.6:7102",
            Metadata = new Dictionary<string, string> { ["version"] = "V2" },
        });
        if (Listened)
        {
            _listener = new MeterListener
            {
                InstrumentPublished = (instrument, listener) =>
                {
                    if (instrument.Meter.Name == TrafficObserver.MeterName)
                    {
                        listener.EnableMeasurementEvents(instrument);
                    }
                },
            };
            _listener.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
            _listener.Start();
        }

        _observer.Record(_destination, _cluster, null, Outcome.Success, 1000, Stopwatch.GetTimestamp());
    }

    [GlobalCleanup]
    public void Cleanup() => _listener?.Dispose();

    /// <summary>What the observation pays besides the record: the two timestamps. A yardstick for how loaded the machine is.</summary>
    [Benchmark(Baseline = true)]
    public long Timestamps() => Stopwatch.GetTimestamp() - Stopwatch.GetTimestamp();

    [Benchmark]
    public void Record() => _observer.Record(_destination, _cluster, null, Outcome.Success, 123_456, 4_000_000_000);

    /// <summary>The whole per-request cost of observation: the two timestamps and the record.</summary>
    [Benchmark]
    public void RecordWithTiming()
    {
        var start = Stopwatch.GetTimestamp();
        var end = Stopwatch.GetTimestamp();
        _observer.Record(_destination, _cluster, null, Outcome.Success, end - start, end);
    }
}
