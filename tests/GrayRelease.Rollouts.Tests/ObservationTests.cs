using GrayRelease.Nacos.Emulator;

namespace GrayRelease.Rollouts.Tests;

/// <summary>The observer in the proxy pipeline of a real gateway: outcomes by destination version.</summary>
public sealed class ObservationTests : IAsyncLifetime, IDisposable
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private NacosEmulator _nacos = null!;
    private Backend _v1 = null!;

    public async Task InitializeAsync()
    {
        _nacos = await NacosEmulator.StartAsync();
        _v1 = await Backend.StartAsync("V1", _timeout.Token, failEvery: 2);
    }

    public async Task DisposeAsync()
    {
        await _v1.DisposeAsync();
        await _nacos.DisposeAsync();
    }

    public void Dispose() => _timeout.Dispose();

    [Fact]
    public async Task Status_classes_and_transport_errors_are_counted_by_version()
    {
        // V2 points at a port nobody listens on: the forwarder fails to connect (502 from YARP).
        var closed = new Uri("http://127.0.0.1:9");
        await using var gateway = await GatewayReplica.StartAsync(_nacos, _v1.Address, closed, new() { ["Enabled"] = "false" }, _timeout.Token);

        for (var i = 0; i < 4; i++)
        {
            using var _ = await gateway.Client.GetAsync(new Uri("/api/a", UriKind.Relative), _timeout.Token);
        }

        using var tester = new HttpRequestMessage(HttpMethod.Get, "/api/b");
        tester.Headers.Add("gray", "gray-996");
        using var failed = await gateway.Client.SendAsync(tester, _timeout.Token);

        var observer = (TrafficObserver)gateway.Services.GetService(typeof(TrafficObserver))!;
        var all = observer.ReadAll();
        var v1 = all[new SeriesKey("svc", "V1", string.Empty)];
        var v2 = all[new SeriesKey("svc", "V2", string.Empty)];
        Assert.Equal((2L, 2L, 4L), (v1.Outcomes[(int)Outcome.Success], v1.Outcomes[(int)Outcome.ServerError], v1.Requests));
        Assert.Equal((1L, 1L), (v2.Outcomes[(int)Outcome.TransportError], v2.Errors));
        Assert.Equal(502, (int)failed.StatusCode);
    }

    [Fact]
    public void The_rolling_window_counts_per_second_and_forgets_after_it()
    {
        var series = new TrafficSeries(new SeriesKey("svc", "V1", string.Empty));
        var f = System.Diagnostics.Stopwatch.Frequency;
        var t0 = 1000 * f;
        series.Record(Outcome.Success, 10, t0);
        series.Record(Outcome.ServerError, 10, t0 + (f / 2));
        series.Record(Outcome.Success, 10, t0 + f);

        var window = series.ReadWindow(3, t0 + f);
        Assert.Equal([0L, 0, 0, 0], window[0]);
        Assert.Equal([1L, 0, 1, 0], window[1]);
        Assert.Equal([1L, 0, 0, 0], window[2]);

        // 128 s later the same slot is reused, and the old second is gone.
        series.Record(Outcome.ClientError, 10, t0 + (TrafficSeries.WindowSeconds * f));
        var later = series.ReadWindow(2, t0 + (TrafficSeries.WindowSeconds * f));
        Assert.Equal([0L, 1, 0, 0], later[1]);
        Assert.Equal(4, series.Read().Requests);
    }
}
