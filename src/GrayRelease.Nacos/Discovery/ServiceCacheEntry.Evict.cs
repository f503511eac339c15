namespace GrayRelease.Nacos.Discovery;

// The eviction state of one service (issue 16): its own loops' token, and the tombstone while it is evicted.
internal sealed partial class ServiceCacheEntry
{
    private readonly object _evictionGate = new();
    private CancellationTokenSource? _loops;
    private TaskCompletionSource? _eviction;

    /// <summary>Being, or done being, evicted: nothing may subscribe, apply, raise or poll for this entry any more.</summary>
    public bool Evicted => Volatile.Read(ref _eviction) is not null;

    /// <summary>Completes once the eviction has unsubscribed and removed the entry (a lookup meanwhile waits for it).</summary>
    public Task Eviction => Volatile.Read(ref _eviction)?.Task ?? Task.CompletedTask;

    /// <summary>The poll loop, once started (tests wait for it to end).</summary>
    public Task? PollLoop { get; set; }

    /// <summary>
    /// The token of this entry's own loops: cancelled by its eviction, and by <paramref name="root"/> (the provider's
    /// disposal). Already cancelled once the entry is evicted, so a loop started late ends at once.
    /// </summary>
    public CancellationToken LoopToken(CancellationToken root)
    {
        lock (_evictionGate)
        {
            if (_eviction is not null)
            {
                return new CancellationToken(canceled: true);
            }

            _loops ??= CancellationTokenSource.CreateLinkedTokenSource(root);
            return _loops.Token;
        }
    }

    /// <summary>True for the one caller that evicts the entry; cancels its loops.</summary>
    public bool MarkEvicted()
    {
        CancellationTokenSource? loops;
        lock (_evictionGate)
        {
            if (_eviction is not null)
            {
                return false;
            }

            Volatile.Write(ref _eviction, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            loops = _loops;
        }

        // Outside the lock: cancelling runs the loop's continuation inline.
        loops?.Cancel();
        return true;
    }

    /// <summary>The entry is out of the provider's cache: lookups waiting on the tombstone go on with a new entry.</summary>
    public void EvictionDone()
    {
        lock (_evictionGate)
        {
            _loops?.Dispose();
            _loops = null;
        }

        Volatile.Read(ref _eviction)?.TrySetResult();
    }
}
