using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using GrayRelease.ReliabilityTests.Grpc;
using GrayRelease.Testing;

namespace GrayRelease.ReliabilityTests.Infrastructure;

/// <summary>
/// One gRPC call to send: the kind it is (hence the versions allowed on each hop), the gray context the caller sets
/// around it (<paramref name="Status"/>, <paramref name="Lane"/>), and the lanes whose instances must serve each hop
/// (null: the baseline).
/// </summary>
internal sealed record GrpcCall(Expect Expect, GrayStatus? Status, string? Lane = null, string? OrderLane = null, string? UserLane = null);

/// <summary>
/// <see cref="LoadRunner"/> for gRPC: a fixed number of calls in flight, each client → order-app → user-app over the
/// gray gRPC clients, recorded as <see cref="LoadOutcome"/>s (status 200 = OK; anything else is a failure, its gRPC
/// status in <see cref="LoadOutcome.Error"/>), so the same <see cref="LoadResult"/> figures apply.
/// </summary>
internal sealed class GrpcLoadRunner : IAsyncDisposable
{
    private readonly ConcurrentQueue<LoadOutcome> _outcomes = new();
    private readonly CancellationTokenSource _stop;
    private readonly Task[] _workers;
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly int _total;
    private int _issued;

    private GrpcLoadRunner(OrderHop.OrderHopClient client, int concurrency, int total, Func<int, GrpcCall> next, CancellationToken cancellationToken)
    {
        _total = total;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _workers = new Task[concurrency];
        for (var i = 0; i < concurrency; i++)
        {
            // Workers start with no gray context of the test's flow: each call sets its own.
            using (ExecutionContext.SuppressFlow())
            {
                _workers[i] = Task.Run(() => WorkAsync(client, next), CancellationToken.None);
            }
        }
    }

    public IReadOnlyCollection<LoadOutcome> Outcomes => _outcomes;

    public int Completed => _outcomes.Count;

    public static async Task<LoadResult> RunAsync(OrderHop.OrderHopClient client, int total, int concurrency, Func<int, GrpcCall> next, CancellationToken cancellationToken)
    {
        await using var runner = new GrpcLoadRunner(client, concurrency, total, next, cancellationToken);
        await Task.WhenAll(runner._workers);
        return new LoadResult([.. runner._outcomes], runner._watch.Elapsed);
    }

    /// <summary>Starts calling until <see cref="StopAsync"/> is called.</summary>
    public static GrpcLoadRunner Start(OrderHop.OrderHopClient client, int concurrency, Func<int, GrpcCall> next, CancellationToken cancellationToken) =>
        new(client, concurrency, int.MaxValue, next, cancellationToken);

    public static async Task<LoadOutcome> SendAsync(OrderHop.OrderHopClient client, GrpcCall call, int id)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            Chain chain;
            if (call.Lane is { } lane)
            {
                using (GrayContext.BeginLane(lane))
                {
                    chain = await SendInStatusAsync(client, call.Status, id);
                }
            }
            else
            {
                chain = await SendInStatusAsync(client, call.Status, id);
            }

            return new LoadOutcome(
                call.Expect, 200, chain.Order.Version, chain.User.Version, chain.User.Port, Stopwatch.GetElapsedTime(started).TotalMilliseconds, Stopwatch.GetTimestamp(), null,
                LaneOf(chain.Order), LaneOf(chain.User), call.OrderLane, call.UserLane);
        }
        catch (RpcException exception)
        {
            return new LoadOutcome(
                call.Expect, 0, null, null, 0, Stopwatch.GetElapsedTime(started).TotalMilliseconds, Stopwatch.GetTimestamp(), $"{exception.StatusCode}: {exception.Status.Detail}",
                ExpectOrderLane: call.OrderLane, ExpectUserLane: call.UserLane);
        }
    }

    public async Task<LoadResult> StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers);
        return new LoadResult([.. _outcomes], _watch.Elapsed);
    }

    /// <summary>Waits until <paramref name="count"/> more calls have completed than now.</summary>
    public Task WaitForMoreAsync(int count, CancellationToken cancellationToken)
    {
        var target = Completed + count;
        return Eventually.WaitUntilAsync(() => Completed >= target, $"{count} more calls completed", TimeSpan.FromSeconds(60), cancellationToken);
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

    private static async Task<Chain> SendInStatusAsync(OrderHop.OrderHopClient client, GrayStatus? status, int id)
    {
        if (status is { } value)
        {
            using (GrayContext.Begin(value))
            {
                return await client.GetAsync(new HopRequest { Id = id }, deadline: DateTime.UtcNow.AddSeconds(30));
            }
        }

        return await client.GetAsync(new HopRequest { Id = id }, deadline: DateTime.UtcNow.AddSeconds(30));
    }

    private static string? LaneOf(Hop hop) => hop.Lane.Length == 0 ? null : hop.Lane;

    private async Task WorkAsync(OrderHop.OrderHopClient client, Func<int, GrpcCall> next)
    {
        while (!_stop.IsCancellationRequested)
        {
            var index = Interlocked.Increment(ref _issued) - 1;
            if (index >= _total)
            {
                return;
            }

            // Calls already issued run to completion even when the run stops: a stop is not a failure.
            _outcomes.Enqueue(await SendAsync(client, next(index), index));
        }
    }
}
