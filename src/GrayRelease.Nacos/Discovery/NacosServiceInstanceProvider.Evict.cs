using GrayRelease.Discovery;
using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Naming;

namespace GrayRelease.Nacos.Discovery;

// Services nobody calls any more (issue 16): the load balancer's idle sweep asks the provider to stop keeping them fresh.
public sealed partial class NacosServiceInstanceProvider : IServiceEvictionTarget
{
    // Names asked by configuration (a gateway's destinations, a gRPC channel's address), with how many hold each: never
    // evicted, whatever the load balancer saw. Guarded by itself; bounded by the configured names.
    private readonly Dictionary<string, int> _pins = new(StringComparer.Ordinal);

    /// <inheritdoc />
    IDisposable IServiceEvictionTarget.Pin(string serviceName) => Pin(serviceName);

    /// <inheritdoc />
    ValueTask<bool> IServiceEvictionTarget.TryEvictAsync(string serviceName, CancellationToken cancellationToken) =>
        TryEvictAsync(serviceName, cancellationToken);

    /// <summary>The poll loop of a service looked up before, while it runs or after it ended (tests).</summary>
    internal Task? GetPollLoop(string serviceName) => _entries.TryGetValue(serviceName, out var entry) ? entry.PollLoop : null;

    internal IDisposable Pin(string serviceName)
    {
        ArgumentException.ThrowIfNullOrEmpty(serviceName);
        lock (_pins)
        {
            _pins[serviceName] = _pins.GetValueOrDefault(serviceName) + 1;
        }

        return new PinHandle(this, serviceName);
    }

    /// <summary>
    /// Stops keeping a service fresh: its own poll loop ends (its token is linked to the provider's), its gRPC
    /// subscription is cancelled, the entry leaves the cache and gives its <see cref="NacosOptions.MaxServices"/> slot
    /// back. The snapshot file stays: it marks the name as a service seen before, should Nacos be down at the next
    /// lookup. False when the name is pinned.
    /// </summary>
    internal async ValueTask<bool> TryEvictAsync(string serviceName, CancellationToken cancellationToken)
    {
        if (!_entries.TryGetValue(serviceName, out var entry) || entry.Transient || !entry.List.Known)
        {
            return true; // nothing kept fresh under that name (an unknown name has no loop and expires on its own)
        }

        lock (_pins)
        {
            if (_pins.ContainsKey(serviceName))
            {
                return false;
            }
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token);

        // Under the gate no fetch, apply or event of this service is under way, and none starts before the mark is seen.
        await entry.Gate.WaitAsync(linked.Token).ConfigureAwait(false);
        var marked = false;
        try
        {
            // The pin check and the mark are one step: a resolver pins before it looks up, so it either keeps this
            // entry alive or finds the tombstone and waits for a fresh entry.
            lock (_pins)
            {
                if (_pins.ContainsKey(serviceName))
                {
                    return false;
                }

                if (!entry.MarkEvicted())
                {
                    return true;
                }

                marked = true;
            }

            // Unsubscribed while the tombstone is still cached: a lookup meanwhile waits for it, so the subscription of
            // the next entry cannot be undone by this one's unsubscribe arriving later.
            if (_transport is { PushesLists: true } transport)
            {
                try
                {
                    await transport.UnsubscribeAsync(serviceName, linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (linked.IsCancellationRequested)
                {
                    // Disposal: the connection, and every subscription on it, ends anyway.
                }
#pragma warning disable CA1031 // Best effort: the subscription is out of the redo set, so a reconnect drops it anyway.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Log.GrpcUnsubscribeFailed(_logger, ex, serviceName);
                }
            }

            _entries.TryRemove(new KeyValuePair<string, ServiceCacheEntry>(serviceName, entry));
            if (entry.Admitted)
            {
                Interlocked.Decrement(ref _knownCount);
            }

            Log.ServiceEvicted(_logger, serviceName, _transport is { PushesLists: true } ? "gRPC subscription" : "poll loop");
            return true;
        }
        finally
        {
            if (marked)
            {
                entry.EvictionDone();
            }

            entry.Gate.Release();
        }
    }

    private void Unpin(string serviceName)
    {
        lock (_pins)
        {
            if (_pins.TryGetValue(serviceName, out var count))
            {
                if (count <= 1)
                {
                    _pins.Remove(serviceName);
                }
                else
                {
                    _pins[serviceName] = count - 1;
                }
            }
        }
    }

    /// <summary>Waits while <paramref name="entry"/> is being evicted, then takes the entry that replaces it.</summary>
    private async ValueTask<ServiceCacheEntry> PastEvictionAsync(ServiceCacheEntry entry, CancellationToken cancellationToken)
    {
        while (entry.Evicted)
        {
            await entry.Eviction.WaitAsync(cancellationToken).ConfigureAwait(false);
            entry = GetEntry(entry.Name);
        }

        return entry;
    }

    private sealed class PinHandle(NacosServiceInstanceProvider owner, string serviceName) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Unpin(serviceName);
            }
        }
    }
}
