using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Http;
using GrayRelease.Nacos.Naming;

namespace GrayRelease.Nacos.Discovery;

// Fetching over HTTP: the first list, the poll loop, and the refresh every transport ends in.
public sealed partial class NacosServiceInstanceProvider
{
    private async Task LoadFirstAsync(ServiceCacheEntry entry)
    {
        var token = _disposed.Token;
        var answered = false;
        try
        {
            var transport = await GetTransportAsync(token).ConfigureAwait(false);
            if (transport.Kind == NacosTransport.Http)
            {
                // Binding the push socket first lets the very first list call subscribe it.
                _ = _push.Value;
            }

            answered = await RefreshAndSaveAsync(entry, "list", fromPush: false, token).ConfigureAwait(false);
            if (!answered || !entry.List.Known)
            {
                // Unreachable, or an empty answer (which the v1 API gives for an unknown service and for a known one
                // without instances alike): a snapshot means this name was a service, so it must not fall through.
                await LoadSnapshotAsync(entry, answered, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return;
        }
#pragma warning disable CA1031 // The first lookup must answer (from the snapshot, or "unknown"), whatever went wrong.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.RefreshFailed(_logger, ex, entry.Name, entry.List.Instances.Count);
            try
            {
                await LoadSnapshotAsync(entry, answered: false, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
        }

        if (entry.List.Known)
        {
            EnsurePolled(entry);
        }
        else
        {
            if (answered)
            {
                UnsubscribeUnknown(entry);
            }

            entry.UnknownUntil = _time.GetTimestamp() + (long)(UnknownServiceTtl.TotalSeconds * _time.TimestampFrequency);
            if (!entry.Transient)
            {
                entry.CountAsUnknown();
                Interlocked.Increment(ref _unknownCount);
            }
        }
    }

    /// <summary>Starts the poll loop once the service is known (only names the registry knows are polled).</summary>
    private void EnsurePolled(ServiceCacheEntry entry)
    {
        if (entry.UncountUnknown())
        {
            Interlocked.Decrement(ref _unknownCount);
        }

        if (entry.Transient)
        {
            // Looked up while the unknown-name cache was full, and known after all: cache it like any other.
            if (!_entries.TryAdd(entry.Name, entry))
            {
                // Another lookup cached this name meanwhile; that entry is the one counted and kept fresh.
                if (entry.Admitted)
                {
                    Interlocked.Decrement(ref _knownCount);
                }

                return;
            }

            entry.Transient = false;
        }

        // Over gRPC the subscription's pushes keep the list fresh: no poll loop, as the official client
        // (client/.../naming/core/ServiceInfoUpdateService.java polls only with namingAsyncQuerySubscribeService=true,
        // default false). A list last fetched over HTTP while Auto moved naming to gRPC is not subscribed yet: the
        // loop's first turn subscribes it, then the loop ends.
        var pushed = _transport is { PushesLists: true } && (entry.PushSubscribed || entry.OutagesOf is not { PushesLists: false });
        if (!pushed && entry.StartPolling())
        {
            entry.PollLoop = StartBackground(() => PollAsync(entry, entry.LoopToken(_disposed.Token)));
        }
    }

    private async Task PollAsync(ServiceCacheEntry entry, CancellationToken token)
    {
        using var running = NacosMetrics.LoopRunning("poll");
        // Services looked up together (at start-up, or by one request) would otherwise poll together for ever, each
        // poll in flight holding its own pooled connection: a random extra delay once, within one period, spreads them.
        var stagger = TimeSpan.FromTicks((long)(entry.PollInterval.Ticks * Random.Shared.NextDouble()));
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(entry.PollInterval + stagger, _time, token).ConfigureAwait(false);
                stagger = TimeSpan.Zero;
                if (EndsPolling(entry))
                {
                    return;
                }

                // Over gRPC (started before the transport was chosen, or Auto moved naming to gRPC) this refresh
                // subscribes the service; the loop ends only then, so no change falls between polling and pushes.
                await RefreshAndSaveAsync(entry, "poll", fromPush: false, token).ConfigureAwait(false);
                if (EndsPolling(entry))
                {
                    return;
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The poll loop must outlive any single bad answer.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.BackgroundRefreshFailed(_logger, ex, entry.Name);
            }
        }
    }

    /// <summary>True (and the loop marked ended) once the service is subscribed over a transport that pushes its lists.</summary>
    private bool EndsPolling(ServiceCacheEntry entry)
    {
        if (_transport is not { PushesLists: true } || !entry.PushSubscribed)
        {
            return false;
        }

        entry.StopPolling();
        return true;
    }

    /// <summary>A refresh, then the snapshot write it queued (outside the gate, so it never delays ordering).</summary>
    private async Task<bool> RefreshAndSaveAsync(ServiceCacheEntry entry, string source, bool fromPush, CancellationToken token)
    {
        var answered = await RefreshAsync(entry, source, fromPush, token).ConfigureAwait(false);
        FlushSnapshot(entry);
        return answered;
    }

    /// <summary>
    /// Nacos was down since this service's last answer (seen by this refresh, a heartbeat, any other call, or a lost
    /// gRPC connection): a restarted server lists instances only as they re-register, so merge for a while instead of
    /// replacing. The caller holds the entry's gate.
    /// </summary>
    private void NoteOutages(ServiceCacheEntry entry, INacosNamingTransport transport)
    {
        var outages = transport.OutageCount;
        if (entry.OutagesOf is { } before && !ReferenceEquals(before, transport) && !entry.Unreachable)
        {
            // The first answer over gRPC after Auto moved naming there: another transport's count, not an outage.
            entry.OutagesOf = transport;
            entry.OutagesSeen = outages;
            return;
        }

        entry.OutagesOf = transport;
        if (!entry.Unreachable && outages == entry.OutagesSeen)
        {
            return;
        }

        entry.Unreachable = false;
        entry.OutagesSeen = outages;
        if (_options.RecoveryGrace > TimeSpan.Zero && entry.List.Known)
        {
            entry.RecoveryUntil = _time.GetTimestamp() + (long)(_options.RecoveryGrace.TotalSeconds * _time.TimestampFrequency);
            Log.RecoveryStarted(_logger, _options.RecoveryGrace);
            if (transport.PushesLists)
            {
                ScheduleRecoveryRefresh(entry);
            }
        }
    }

    /// <summary>Fetches the list and applies it, under the service's gate; false when no usable answer came (logged).</summary>
    private async Task<bool> RefreshAsync(ServiceCacheEntry entry, string source, bool fromPush, CancellationToken token)
    {
        await entry.Gate.WaitAsync(token).ConfigureAwait(false);
        try
        {
            if (entry.Evicted)
            {
                return false; // a late poll, push or recovery fetch must not subscribe it again (Evict.cs)
            }

            if (fromPush)
            {
                // From here on, a new push may have been sent after this fetch started: it needs a fetch of its own.
                entry.ClearPushSignal();
            }

            var transport = await GetTransportAsync(token).ConfigureAwait(false);
            var push = _push.IsValueCreated ? _push.Value : null;
            var (info, body) = await transport.SubscribeAsync(entry.Name, push?.Port ?? 0, push?.ClientIp, token).ConfigureAwait(false);
            if (info is null || !string.Equals(info.BareName, entry.Name, StringComparison.Ordinal))
            {
                Log.MalformedInstanceList(_logger, entry.Name, entry.List.Instances.Count, NacosNamingClient.Truncate(body));
                return false;
            }

            NoteOutages(entry, transport);
            entry.PushSubscribed = transport.PushesLists;

            // Only an HTTP answer sets the poll period: a datagram's cacheMillis is never trusted.
            entry.PollInterval = TimeSpan.FromMilliseconds(Math.Clamp(info.CacheMillis, MinPollInterval.TotalMilliseconds, MaxPollInterval.TotalMilliseconds));
            if (IsOlderThanApplied(entry, info))
            {
                return true;
            }

            ApplyLocked(entry, info, body, source);
            return true;
        }
        catch (NacosException ex)
        {
            entry.Unreachable |= ex is NacosUnavailableException;
            Log.RefreshFailed(_logger, ex, entry.Name, entry.List.Instances.Count);
            return false;
        }
        finally
        {
            entry.Gate.Release();
        }
    }
}
