using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace GrayRelease.Soak;

/// <summary>A kind of request the soak sends and what must serve it on each hop (order-app, then user-app).</summary>
internal sealed record RequestKind(string Name, int Weight, bool ThroughAllGateway, KeyValuePair<string, string>[] Headers, Func<Hop, bool> Expected, string ExpectedText);

/// <summary>What served one request: version and lane of each hop.</summary>
internal readonly record struct Hop(string OrderVersion, string OrderLane, string UserVersion, string UserLane)
{
    public override string ToString() => $"{OrderVersion}{Lane(OrderLane)}→{UserVersion}{Lane(UserLane)}";

    private static string Lane(string lane) => lane.Length == 0 ? "" : "/" + lane;
}

/// <summary>
/// Steady mixed traffic at a fixed rate through the gray gateway (GRAY, PROD, a forged header, a lane, a lane + GRAY)
/// and a second gateway with the gray switch off (ALL); each answer names what served both hops, so a request served
/// by the wrong version or lane on any hop is counted as cross-version. A slow system gets fewer requests (the number
/// in flight is capped), never a queue that grows.
/// </summary>
internal sealed class Traffic : IAsyncDisposable
{
    public const string Lane = "lane-a";
    public const int MaxInFlight = 64;

    public static readonly RequestKind[] Kinds =
    [
        new("PROD", 25, false, [], h => h is { OrderVersion: "V1", OrderLane: "", UserVersion: "V1", UserLane: "" }, "V1→V1"),
        new("PROD-forged", 10, false, [new("gray", "GRAY"), new("gray-lane", Lane)], h => h is { OrderVersion: "V1", OrderLane: "", UserVersion: "V1", UserLane: "" }, "V1→V1"),
        new("GRAY", 25, false, [new("gray", "gray-996")], h => h is { OrderVersion: "V2", OrderLane: "", UserVersion: "V2", UserLane: "" }, "V2→V2"),
        new("LANE", 10, false, [new("x-lane", Lane)], h => h is { OrderVersion: "V1", OrderLane: "", UserVersion: "V3", UserLane: Lane }, $"V1→V3/{Lane}"),
        new("LANE+GRAY", 5, false, [new("x-lane", Lane), new("gray", "gray-996")], h => h is { OrderVersion: "V2", OrderLane: "", UserVersion: "V3", UserLane: Lane }, $"V2→V3/{Lane}"),
        new("ALL", 25, true, [], h => h.OrderVersion is "V1" or "V2" && h.UserVersion is "V1" or "V2" && h.OrderLane.Length == 0 && h.UserLane.Length == 0, "V1|V2→V1|V2"),
    ];

    private readonly HttpClient _gray;
    private readonly HttpClient _all;
    private readonly double _rate;
    private readonly SemaphoreSlim _inFlight = new(MaxInFlight, MaxInFlight);
    private readonly CancellationTokenSource _stop = new();
    private readonly KindCounters[] _counters = [.. Kinds.Select(_ => new KindCounters())];
    private readonly ConcurrentQueue<string> _failures = new();
    private readonly ConcurrentDictionary<string, long> _allPaths = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _stockOutcomes = new(StringComparer.Ordinal);
    private readonly Stopwatch _clock;
    private Task? _loop;
    private long _skipped;
    private long _stockOk;
    private long _stockFailed;
    private int _failureLines;

    public Traffic(Uri grayGateway, Uri allGateway, double rate, Stopwatch clock)
    {
        _gray = NewClient(grayGateway);
        _all = NewClient(allGateway);
        _rate = rate;
        _clock = clock;
    }

    /// <summary>Requests not sent because <see cref="MaxInFlight"/> were in flight (the system could not keep up).</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

    /// <summary>The first failures and cross-version answers, for the report.</summary>
    public IReadOnlyCollection<string> FailureLines => _failures;

    public IReadOnlyDictionary<string, long> AllPaths => _allPaths;

    public (long Ok, long Failed) Stock => (Interlocked.Read(ref _stockOk), Interlocked.Read(ref _stockFailed));

    /// <summary>Outcomes of the stock-app probes by status (or error).</summary>
    public IReadOnlyDictionary<string, long> StockOutcomes => _stockOutcomes;

    public static async Task<Hop?> SendOnceAsync(HttpClient client, RequestKind kind, int id, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/order/orders/{id}");
        foreach (var header in kind.Headers)
        {
            request.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        using var response = await client.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return null;
        }

        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        var order = body.RootElement.GetProperty("servedBy");
        var user = body.RootElement.GetProperty("user").GetProperty("servedBy");
        return new Hop(Text(order, "version"), Text(order, "lane"), Text(user, "version"), Text(user, "lane"));
    }

    public static HttpClient NewClient(Uri address) =>
        new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2), MaxConnectionsPerServer = MaxInFlight })
        {
            BaseAddress = address,
            Timeout = TimeSpan.FromSeconds(30),
        };

    public void Start()
    {
        using (ExecutionContext.SuppressFlow())
        {
            _loop = Task.Run(() => RunAsync(_stop.Token));
        }
    }

    /// <summary>The counts since the previous call, per kind.</summary>
    public KindCounts[] TakeInterval() => [.. _counters.Select(c => c.Take())];

    public KindCounts[] Totals() => [.. _counters.Select(c => c.Total())];

    /// <summary>One request to the churned service, counted apart: its instances are killed on purpose.</summary>
    public async Task ProbeStockAsync(int id, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _gray.GetAsync(new Uri($"/stock/users/{id}", UriKind.Relative), cancellationToken);
            Interlocked.Increment(ref response.StatusCode == HttpStatusCode.OK ? ref _stockOk : ref _stockFailed);
            _stockOutcomes.AddOrUpdate(((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture), 1, (_, n) => n + 1);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref _stockFailed);
            _stockOutcomes.AddOrUpdate(exception.GetType().Name, 1, (_, n) => n + 1);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        // Let requests in flight finish (each has its own 30 s timeout), so that each is counted.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(45);
        for (var i = 0; i < MaxInFlight; i++)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await _inFlight.WaitAsync(left))
            {
                break;
            }
        }

        _gray.Dispose();
        _all.Dispose();
        _stop.Dispose();
    }

    private static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() ?? "" : "";

    private async Task RunAsync(CancellationToken stop)
    {
        var weights = Kinds.Sum(k => k.Weight);
        var started = _clock.Elapsed;
        long sent = 0;
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        try
        {
            while (await tick.WaitForNextTickAsync(stop))
            {
                var due = (long)((_clock.Elapsed - started).TotalSeconds * _rate);
                for (; sent < due; sent++)
                {
                    if (!_inFlight.Wait(0, CancellationToken.None))
                    {
                        Interlocked.Increment(ref _skipped);
                        continue;
                    }

                    // A fixed interleaving (by weight) rather than random draws: every interval sees the same mix.
                    var slot = (int)(sent % weights);
                    var index = 0;
                    for (var acc = Kinds[0].Weight; slot >= acc; acc += Kinds[++index].Weight)
                    {
                    }

                    _ = SendAsync(index, (int)(sent % 1000));
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task SendAsync(int index, int id)
    {
        var kind = Kinds[index];
        var counters = _counters[index];
        var watch = Stopwatch.StartNew();
        try
        {
            var hop = await SendOnceAsync(kind.ThroughAllGateway ? _all : _gray, kind, id, CancellationToken.None);
            if (hop is not { } served)
            {
                counters.Failed();
                Note($"{_clock.Elapsed.TotalSeconds:F1}s {kind.Name}: not 200");
            }
            else if (!kind.Expected(served))
            {
                counters.Cross();
                Note($"{_clock.Elapsed.TotalSeconds:F1}s {kind.Name}: served {served}, expected {kind.ExpectedText}");
            }
            else
            {
                counters.Ok(watch.Elapsed.TotalMilliseconds);
                if (kind.ThroughAllGateway)
                {
                    _allPaths.AddOrUpdate(served.ToString(), 1, (_, n) => n + 1);
                }
            }
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            counters.Failed();
            Note($"{_clock.Elapsed.TotalSeconds:F1}s {kind.Name}: {exception.GetType().Name}: {exception.Message}");
        }
        finally
        {
            _inFlight.Release();
        }
    }

    private void Note(string line)
    {
        if (Interlocked.Increment(ref _failureLines) <= 50)
        {
            _failures.Enqueue(line);
        }
    }

    private sealed class KindCounters
    {
        private readonly Lock _gate = new();
        private KindCounts _interval;
        private KindCounts _total;

        public void Ok(double millis) => Add(new KindCounts(1, 0, 0, millis));

        public void Failed() => Add(new KindCounts(0, 1, 0, 0));

        public void Cross() => Add(new KindCounts(0, 0, 1, 0));

        public KindCounts Take()
        {
            lock (_gate)
            {
                var result = _interval;
                _interval = default;
                return result;
            }
        }

        public KindCounts Total()
        {
            lock (_gate)
            {
                return _total;
            }
        }

        private void Add(KindCounts counts)
        {
            lock (_gate)
            {
                _interval += counts;
                _total += counts;
            }
        }
    }
}

internal readonly record struct KindCounts(long Ok, long Failed, long Cross, double OkMillis)
{
    public long Sent => Ok + Failed + Cross;

    public static KindCounts operator +(KindCounts a, KindCounts b) => new(a.Ok + b.Ok, a.Failed + b.Failed, a.Cross + b.Cross, a.OkMillis + b.OkMillis);
}
