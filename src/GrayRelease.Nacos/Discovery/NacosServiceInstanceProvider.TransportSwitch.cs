using GrayRelease.Nacos.Diagnostics;

namespace GrayRelease.Nacos.Discovery;

// nacos:Transport = Auto chose HTTP because the gRPC port did not answer, and it answers now (issue 16): every cached
// service moves from its poll loop to a gRPC subscription, without a moment where its list is empty or a change missed.
public sealed partial class NacosServiceInstanceProvider
{
    private int _followingSwitch;

    /// <summary>Once the provider uses HTTP: waits (in the background) for the selector to switch to gRPC.</summary>
    private void FollowTransportSwitch()
    {
        if (Interlocked.Exchange(ref _followingSwitch, 1) == 0)
        {
            _ = StartBackground(MoveToGrpcAsync);
        }
    }

    private async Task MoveToGrpcAsync()
    {
        var token = _disposed.Token;
        try
        {
            var grpc = await _transports.Switched.WaitAsync(token).ConfigureAwait(false);

            // Handler first, so a push for a service subscribed below is never dropped. Then every refresh (poll,
            // UDP signal, first lookup) goes over gRPC: a refresh subscribes, and the server pushes from then on.
            grpc.SetListHandler(OnListReceived);
            _transport = grpc;
            var moved = 0;
            foreach (var entry in _entries.Values)
            {
                if (!entry.Polled)
                {
                    // Unknown names are looked up again later (over gRPC); no list to keep.
                    continue;
                }

                // The cached list stays as it is until the subscription's answer replaces it (same instances: no change
                // is raised). The poll loop ends at its next turn, seeing the subscription; if this one failed (logged),
                // that turn subscribes.
                if (await RefreshAndSaveAsync(entry, "list", fromPush: false, token).ConfigureAwait(false))
                {
                    moved++;
                }
            }

            Log.DiscoveryMovedToGrpc(_logger, moved);

            // Lists are pushed over the connection now: the UDP push socket only signalled HTTP fetches.
            if (_push.IsValueCreated && _push.Value is { } udp)
            {
                await udp.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // The poll loops keep the lists fresh whatever went wrong here.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.DiscoveryMoveFailed(_logger, ex);
        }
    }
}
