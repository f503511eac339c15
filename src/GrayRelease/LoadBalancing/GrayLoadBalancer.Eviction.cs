using GrayRelease.Diagnostics;
using GrayRelease.Discovery;

namespace GrayRelease.LoadBalancing;

// Forgetting services nobody calls any more (issue 16): a host called once would otherwise keep a table here, and a poll
// loop or subscription in the registry provider, for the life of the process.
internal sealed partial class GrayLoadBalancer
{
    // The sweep runs this often at most, and at least four times per timeout: a service is forgotten between one timeout
    // and one timeout plus two periods (1.5 timeouts at most) after its last pick.
    private static readonly TimeSpan MaxSweepPeriod = TimeSpan.FromMinutes(1);

    // Names quoted in the one log line of a sweep; the count says how many there were.
    private const int LoggedNames = 5;

    private readonly CancellationTokenSource _stopping = new();
    private readonly object _sweepGate = new();
    private ITimer? _sweepTimer;
    private TimeSpan _sweepPeriod = Timeout.InfiniteTimeSpan;
    private int _sweeping;
    private Task _lastSweep = Task.CompletedTask;

    /// <summary>The sweep the timer started last (tests wait for it).</summary>
    internal Task LastSweep => Volatile.Read(ref _lastSweep);

    /// <summary>How often the idle sweep runs for <paramref name="timeout"/>; infinite when services are never forgotten.</summary>
    internal static TimeSpan SweepPeriod(TimeSpan timeout) =>
        timeout <= TimeSpan.Zero ? Timeout.InfiniteTimeSpan : (timeout / 4 < MaxSweepPeriod ? timeout / 4 : MaxSweepPeriod);

    private void StartIdleSweep()
    {
        // The balancer is created inside the first request that needs it: its timer lives for the process and must not
        // carry that request's gray tag, Activity or log scope.
        using (ExecutionContext.SuppressFlow())
        {
            _sweepTimer = _timeProvider.CreateTimer(static state => ((GrayLoadBalancer)state!).OnSweepTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        OnIdleServiceTimeoutChanged(Volatile.Read(ref _currentOptions));
    }

    private void OnIdleServiceTimeoutChanged(GrayReleaseOptions options)
    {
        var period = SweepPeriod(options.IdleServiceTimeout);
        lock (_sweepGate)
        {
            if (_sweepTimer is null || _stopping.IsCancellationRequested || period == _sweepPeriod)
            {
                return;
            }

            _sweepPeriod = period;
            _sweepTimer.Change(period, period);
        }
    }

    private void StopIdleSweep()
    {
        lock (_sweepGate)
        {
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            _stopping.Cancel();
            _sweepTimer?.Dispose();
        }

        // A sweep still running ends at its next await; its fault, if any, was logged, never rethrown here.
    }

    private void OnSweepTimer()
    {
        if (Interlocked.CompareExchange(ref _sweeping, 1, 0) != 0)
        {
            return; // the previous sweep still waits on the provider: one at a time
        }

        Volatile.Write(ref _lastSweep, RunSweepAsync());
    }

    private async Task RunSweepAsync()
    {
        try
        {
            await SweepIdleAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // The sweep must survive anything one round meets; the next round starts afresh.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.IdleSweepFailed(_logger, exception);
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    /// <summary>
    /// One round: a table picked since the last round is marked as seen now; one not picked for
    /// <see cref="GrayReleaseOptions.IdleServiceTimeout"/> is dropped, after the provider (if it keeps services fresh)
    /// agreed to stop refreshing it. Returns how many were dropped.
    /// </summary>
    /// <remarks>
    /// A pick only sets a flag that the round clears (no clock read on the pick path, which costs as much as the rest
    /// of a pick): the idle time is measured in rounds, so it is accurate to one sweep period.
    /// </remarks>
    internal async Task<int> SweepIdleAsync(CancellationToken cancellationToken)
    {
        var timeout = Volatile.Read(ref _currentOptions).IdleServiceTimeout;
        if (timeout <= TimeSpan.Zero)
        {
            return 0;
        }

        var now = _timeProvider.GetTimestamp();
        var idleFor = (long)Math.Min(timeout.TotalSeconds * _timeProvider.TimestampFrequency, long.MaxValue / 4);
        List<KeyValuePair<string, Entry>>? idle = null;
        foreach (var pair in _entries)
        {
            if (pair.Value.Table is null)
            {
                continue;
            }

            var use = pair.Value.Use;
            if (use.TakePicked())
            {
                use.LastSeen = now;
            }
            else if (now - use.LastSeen >= idleFor)
            {
                (idle ??= []).Add(pair);
            }
        }

        if (idle is null)
        {
            return 0;
        }

        var target = _provider as IServiceEvictionTarget;
        List<string>? evicted = null;
        foreach (var (serviceName, entry) in idle)
        {
            if (entry.Use.IsPicked)
            {
                continue; // picked while this round ran: the next round marks it seen
            }

            if (target is not null && !await target.TryEvictAsync(serviceName, cancellationToken).ConfigureAwait(false))
            {
                // Pinned (a gateway or a gRPC channel resolves it): the provider keeps it fresh anyway. Asked again
                // after another timeout, not every round.
                entry.Use.LastSeen = now;
                continue;
            }

            // The provider refreshes it no more, so whatever table is stored for the name now must go, even one a pick
            // used meanwhile: a table nothing refreshes would route on a stale list for ever. The next pick is a first
            // lookup again.
            if (_entries.TryGetValue(serviceName, out var current) && current.Table is not null && _entries.TryRemove(new KeyValuePair<string, Entry>(serviceName, current)))
            {
                Release(current);
                (evicted ??= []).Add(serviceName);
            }
        }

        if (evicted is null)
        {
            return 0;
        }

        _metrics.ServicesEvicted(evicted.Count);
        var names = evicted.Count <= LoggedNames
            ? string.Join(", ", evicted)
            : string.Join(", ", evicted.GetRange(0, LoggedNames)) + $" and {evicted.Count - LoggedNames} more";
        Log.IdleServicesEvicted(_logger, evicted.Count, timeout, names);
        return evicted.Count;
    }

    /// <summary>Whether a table's service was picked lately, in rounds of the idle sweep.</summary>
    private sealed class ServiceUse
    {
        /// <summary>Shared by entries without a table (never picked, never swept).</summary>
        public static readonly ServiceUse None = new();

        // A new table counts as used: its first round marks it seen, so it is idle one timeout after that at the earliest.
        private int _picked = 1;

        /// <summary>Timestamp of the round that last found it picked.</summary>
        public long LastSeen { get; set; }

        public bool IsPicked => Volatile.Read(ref _picked) != 0;

        /// <summary>On every pick: a read, and a write only the first time per round (no shared cache line written per call).</summary>
        public void MarkPicked()
        {
            if (Volatile.Read(ref _picked) == 0)
            {
                Volatile.Write(ref _picked, 1);
            }
        }

        public bool TakePicked() => Interlocked.Exchange(ref _picked, 0) != 0;
    }
}
