using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using GrayRelease.Testing;

namespace GrayRelease.ReliabilityTests.Infrastructure;

/// <summary>What a request is meant to be: the gateway's decision it should get, hence the versions allowed on each hop.</summary>
internal enum Expect
{
    /// <summary>Switch off: any version on any hop.</summary>
    All,

    /// <summary>V1 on every hop.</summary>
    Prod,

    /// <summary>V2 on every hop.</summary>
    Gray,
}

/// <summary>
/// One request to send: path, the kind it should be routed as, and extra headers; <paramref name="OrderLane"/> and
/// <paramref name="UserLane"/> are the lanes whose instances must serve each hop (null: the baseline).
/// </summary>
internal sealed record LoadRequest(
    string Path,
    Expect Expect,
    IReadOnlyList<KeyValuePair<string, string>>? Headers = null,
    HttpClient? Client = null,
    string? OrderLane = null,
    string? UserLane = null);

/// <summary>
/// One answered (or failed) request: the versions, lanes (null: the baseline) and user-app port seen on each hop, and the
/// lanes each hop was expected in.
/// </summary>
internal sealed record LoadOutcome(
    Expect Expect,
    int Status,
    string? OrderVersion,
    string? UserVersion,
    int UserPort,
    double Milliseconds,
    long CompletedAt,
    string? Error,
    string? OrderLane = null,
    string? UserLane = null,
    string? ExpectOrderLane = null,
    string? ExpectUserLane = null)
{
    public bool Succeeded => Status == 200;

    /// <summary>On a hop served by the baseline: GRAY served by a prod instance, or PROD by a gray one.</summary>
    public bool IsCrossTalk => Succeeded && (WrongVersion(OrderVersion, ExpectOrderLane) || WrongVersion(UserVersion, ExpectUserLane));

    /// <summary>order-app's hop served by an instance of another lane than expected (a lane instance for a baseline hop, or the reverse).</summary>
    public bool OrderCrossLane => Succeeded && !string.Equals(OrderLane, ExpectOrderLane, StringComparison.Ordinal);

    /// <summary>user-app's hop served by an instance of another lane than expected.</summary>
    public bool UserCrossLane => Succeeded && !string.Equals(UserLane, ExpectUserLane, StringComparison.Ordinal);

    // A hop expected in a lane may be served by any version of the lane's instances: the lane, not the version, decides.
    private bool WrongVersion(string? version, string? expectedLane) => expectedLane is null && Expect switch
    {
        Expect.Gray => version != "V2",
        Expect.Prod => version != "V1",
        _ => false,
    };
}

/// <summary>
/// A loopback load generator: a fixed number of requests in flight at once, each through the gateway to order-app
/// to user-app, recording status, per-hop versions and latency.
/// </summary>
internal sealed class LoadRunner : IAsyncDisposable
{
    private readonly ConcurrentQueue<LoadOutcome> _outcomes = new();
    private readonly CancellationTokenSource _stop;
    private readonly Task[] _workers;
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly int _total;
    private int _issued;

    private LoadRunner(HttpClient client, int concurrency, int total, Func<int, LoadRequest> next, CancellationToken cancellationToken)
    {
        _total = total;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _workers = new Task[concurrency];
        for (var i = 0; i < concurrency; i++)
        {
            _workers[i] = Task.Run(() => WorkAsync(client, next), CancellationToken.None);
        }
    }

    public IReadOnlyCollection<LoadOutcome> Outcomes => _outcomes;

    public int Completed => _outcomes.Count;

    /// <summary>Sends <paramref name="total"/> requests, <paramref name="concurrency"/> at a time, and returns their figures.</summary>
    public static async Task<LoadResult> RunAsync(HttpClient client, int total, int concurrency, Func<int, LoadRequest> next, CancellationToken cancellationToken)
    {
        await using var runner = new LoadRunner(client, concurrency, total, next, cancellationToken);
        await Task.WhenAll(runner._workers);
        return new LoadResult([.. runner._outcomes], runner._watch.Elapsed);
    }

    /// <summary>Starts sending until <see cref="StopAsync"/> is called.</summary>
    public static LoadRunner Start(HttpClient client, int concurrency, Func<int, LoadRequest> next, CancellationToken cancellationToken) =>
        new(client, concurrency, int.MaxValue, next, cancellationToken);

    public static async Task<LoadOutcome> SendAsync(HttpClient client, LoadRequest request, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, request.Path);
        if (request.Headers is { } headers)
        {
            foreach (var (name, value) in headers)
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await (request.Client ?? client).SendAsync(message, cancellationToken);
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (!response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                return new LoadOutcome(request.Expect, (int)response.StatusCode, null, null, 0, elapsed, Stopwatch.GetTimestamp(), Truncate(body), ExpectOrderLane: request.OrderLane, ExpectUserLane: request.UserLane);
            }

            var reply = await response.Content.ReadFromJsonAsync<OrderReply>(JsonSerializerOptions.Web, cancellationToken);
            return new LoadOutcome(
                request.Expect, 200, reply!.ServedBy.Version, reply.User.ServedBy.Version, reply.User.ServedBy.Port, elapsed, Stopwatch.GetTimestamp(), null,
                reply.ServedBy.Lane, reply.User.ServedBy.Lane, request.OrderLane, request.UserLane);
        }
        catch (HttpRequestException exception)
        {
            return new LoadOutcome(
                request.Expect, 0, null, null, 0, Stopwatch.GetElapsedTime(started).TotalMilliseconds, Stopwatch.GetTimestamp(), exception.HttpRequestError + ": " + exception.Message,
                ExpectOrderLane: request.OrderLane, ExpectUserLane: request.UserLane);
        }
    }

    /// <summary>Stops issuing, waits for the requests in flight, and returns the figures.</summary>
    public async Task<LoadResult> StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers);
        return new LoadResult([.. _outcomes], _watch.Elapsed);
    }

    /// <summary>Waits until <paramref name="count"/> more requests have completed than now.</summary>
    public Task WaitForMoreAsync(int count, CancellationToken cancellationToken)
    {
        var target = Completed + count;
        return Eventually.WaitUntilAsync(() => Completed >= target, $"{count} more requests completed", TimeSpan.FromSeconds(60), cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }

        await Task.WhenAll(_workers).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task WorkAsync(HttpClient client, Func<int, LoadRequest> next)
    {
        while (!_stop.IsCancellationRequested)
        {
            var index = Interlocked.Increment(ref _issued) - 1;
            if (index >= _total)
            {
                return;
            }

            // Requests already issued run to completion even when the run stops: a stop is not a failure.
            _outcomes.Enqueue(await SendAsync(client, next(index), CancellationToken.None));
        }
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300];
}

/// <summary>The figures of a load run.</summary>
internal sealed class LoadResult(IReadOnlyList<LoadOutcome> outcomes, TimeSpan duration)
{
    public IReadOnlyList<LoadOutcome> Outcomes { get; } = outcomes;

    public TimeSpan Duration { get; } = duration;

    public int Requests => Outcomes.Count;

    public int Failures => Outcomes.Count(o => !o.Succeeded);

    public int CrossTalk => Outcomes.Count(o => o.IsCrossTalk);

    /// <summary>Hops (order-app's, user-app's) served outside the lane they should have been in, counted per hop.</summary>
    public (int Order, int User) CrossLaneHops => (Outcomes.Count(o => o.OrderCrossLane), Outcomes.Count(o => o.UserCrossLane));

    public double Percentile(double p)
    {
        if (Outcomes.Count == 0)
        {
            return 0;
        }

        var sorted = Outcomes.Select(o => o.Milliseconds).Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(sorted.Length * p) - 1)];
    }

    public string Summary(string scenario) => string.Create(
        CultureInfo.InvariantCulture,
        $"[{Suite.Mode}] {scenario}: requests {Requests}, failures {Failures}, cross-talk {CrossTalk}, duration {Duration.TotalSeconds:F1} s, " +
        $"{Requests / Math.Max(Duration.TotalSeconds, 0.001):F0} req/s, p50 {Percentile(0.50):F1} ms, p99 {Percentile(0.99):F1} ms, max {Percentile(1):F1} ms" +
        $" ({string.Join(", ", Outcomes.GroupBy(o => o.Expect).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}"))})");

    /// <summary>The first few failures and cross-talks, for the test output.</summary>
    public IEnumerable<string> Problems(int max = 10) =>
        Outcomes.Where(o => !o.Succeeded || o.IsCrossTalk || o.OrderCrossLane || o.UserCrossLane).Take(max)
            .Select(o => $"  {o.Expect}: status {o.Status}, order {o.OrderVersion}{LaneText(o.OrderLane, o.ExpectOrderLane)}, user {o.UserVersion}:{o.UserPort}{LaneText(o.UserLane, o.ExpectUserLane)}, {o.Milliseconds:F0} ms {o.Error}");

    private static string LaneText(string? lane, string? expected) =>
        lane is null && expected is null ? "" : $" (lane {lane ?? "baseline"}, expected {expected ?? "baseline"})";
}
