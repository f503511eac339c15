using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Naming;

namespace GrayRelease.Nacos.Discovery;

// Lists the server sends on its own over gRPC (NotifySubscriberRequest, redo answers): data from the authenticated
// connection, applied through the same gate, ordering and protections as a fetched list.
public sealed partial class NacosServiceInstanceProvider
{
    private async Task<INacosNamingTransport> GetTransportAsync(CancellationToken token)
    {
        if (_transport is { } known)
        {
            return known;
        }

        var transport = await _transports.GetAsync(token).ConfigureAwait(false);
        if (_transport is null)
        {
            // Set before the first subscription, so no push of ours can come before the handler.
            transport.SetListHandler(OnListReceived);
            _transport = transport;
            if (!transport.PushesLists)
            {
                FollowTransportSwitch();
            }
        }

        return transport;
    }

    /// <summary>On the connection's read loop: only queues the list; the apply runs in the background under the gate.</summary>
    private void OnListReceived(NacosServiceInfo info, string body)
    {
        if (_disposed.IsCancellationRequested
            || info.Clusters.Length != 0
            || !string.Equals(info.GroupName ?? _options.GroupName, _options.GroupName, StringComparison.Ordinal)
            || !_entries.TryGetValue(info.BareName, out var entry))
        {
            return;
        }

        entry.PendingList = (info, body);
        if (entry.SignalPush())
        {
            entry.SetSignalled(StartBackground(() => ApplyPushedAsync(entry)));
        }
    }

    private async Task ApplyPushedAsync(ServiceCacheEntry entry)
    {
        var token = _disposed.Token;
        try
        {
            var transport = await GetTransportAsync(token).ConfigureAwait(false);
            await entry.Gate.WaitAsync(token).ConfigureAwait(false);
            try
            {
                // From here on a newer list needs an apply of its own.
                entry.ClearPushSignal();
                if (entry.TakePendingList() is not { } pending)
                {
                    return;
                }

                NoteOutages(entry, transport);
                if (!IsOlderThanApplied(entry, pending.Info))
                {
                    ApplyLocked(entry, pending.Info, pending.Body, "push");
                }
            }
            finally
            {
                entry.Gate.Release();
            }

            FlushSnapshot(entry);
            if (entry.List.Known)
            {
                EnsurePolled(entry);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // A failed apply must not stop later pushes.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            entry.ClearPushSignal();
            Log.BackgroundRefreshFailed(_logger, ex, entry.Name);
        }
    }

    /// <summary>
    /// A name Nacos lists no instance of is not kept subscribed (every host name sent through a gray-aware client is
    /// looked up); like over HTTP, it is asked again after <see cref="UnknownServiceTtl"/>.
    /// </summary>
    private void UnsubscribeUnknown(ServiceCacheEntry entry)
    {
        if (_transport is not { PushesLists: true } transport)
        {
            return;
        }

        var token = _disposed.Token;
        _ = StartBackground(async () =>
        {
            try
            {
                await transport.UnsubscribeAsync(entry.Name, token).ConfigureAwait(false);

                // A push may have made it known meanwhile: subscribe again, so that it keeps getting pushes.
                if (entry.List.Known)
                {
                    await RefreshAndSaveAsync(entry, "list", fromPush: false, token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
            }
#pragma warning disable CA1031 // Best effort: a subscription left behind only costs the server a little.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.GrpcUnsubscribeFailed(_logger, ex, entry.Name);
            }
        });
    }

    /// <summary>
    /// Over gRPC no poll ends the recovery merge: at the end of the window the full list is fetched once, so instances
    /// that went away during the outage do not stay.
    /// </summary>
    private void ScheduleRecoveryRefresh(ServiceCacheEntry entry)
    {
        if (!entry.ScheduleRecoveryRefresh())
        {
            return;
        }

        var token = _disposed.Token;
        _ = StartBackground(async () =>
        {
            try
            {
                while (_time.GetTimestamp() < entry.RecoveryUntil)
                {
                    var left = TimeSpan.FromSeconds((double)(entry.RecoveryUntil - _time.GetTimestamp()) / _time.TimestampFrequency);
                    await Task.Delay(left > TimeSpan.Zero ? left : TimeSpan.Zero, _time, token).ConfigureAwait(false);
                }

                entry.RecoveryRefreshDone();
                Log.RecoveryRefresh(_logger, entry.Name);
                await RefreshAndSaveAsync(entry, "recovery", fromPush: false, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
            }
#pragma warning disable CA1031 // The next push or reconnect corrects the list.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                entry.RecoveryRefreshDone();
                Log.BackgroundRefreshFailed(_logger, ex, entry.Name);
            }
        });
    }
}
