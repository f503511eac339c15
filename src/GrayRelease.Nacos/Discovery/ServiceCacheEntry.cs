using GrayRelease.Discovery;
using GrayRelease.Nacos.Naming;

namespace GrayRelease.Nacos.Discovery;

/// <summary>The cached instance list of one service, and what orders its changes.</summary>
/// <remarks>
/// Every change of one service (first list, poll, push-triggered fetch, snapshot) runs under <see cref="Gate"/>, and
/// <c>InstancesChanged</c> is raised before the gate is released: subscribers see the changes in the order the state
/// took them, so none can be left on an older list than the provider. Disk writes happen after the gate is released.
/// </remarks>
internal sealed partial class ServiceCacheEntry(string name)
{
    private volatile CachedList _list = CachedList.Unknown;
    private string? _pendingSnapshot;
    private int _pushSignalled;
    private Task _signalled = Task.CompletedTask;
    private int _polled;
    private int _countedUnknown;
    private int _recoveryRefresh;
    private int _admission;
    private (NacosServiceInfo Info, string Body)? _pendingList;

    public string Name { get; } = name;

    /// <summary>Set once by the provider: the first load (started on the first lookup).</summary>
    public Lazy<Task> Loaded { get; set; } = null!;

    public CachedList List
    {
        get => _list;
        set => _list = value;
    }

    /// <summary>Serialises the changes of this service (fetch, apply, raise the event).</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>Serialises the snapshot writes of this service, outside <see cref="Gate"/>.</summary>
    public object SnapshotLock { get; } = new();

    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary><c>lastRefTime</c> of the last answer from Nacos that was applied (0: none yet).</summary>
    public long AppliedRefTime { get; set; }

    /// <summary>Older answers ignored in a row (a failover to a server whose clock is behind ends this after a few).</summary>
    public int StaleInARow { get; set; }

    /// <summary><see cref="Http.NacosHttpClient.OutageCount"/> when this service last got an answer.</summary>
    public long OutagesSeen { get; set; }

    /// <summary>The transport whose outage count <see cref="OutagesSeen"/> is (Auto may move naming from HTTP to gRPC).</summary>
    public INacosNamingTransport? OutagesOf { get; set; }

    /// <summary>Subscribed over a transport that pushes lists (gRPC): a poll loop left from HTTP may end.</summary>
    public bool PushSubscribed { get; set; }

    /// <summary>The last refresh could not reach Nacos.</summary>
    public bool Unreachable { get; set; }

    /// <summary>Until this timestamp answers are merged into the cached list (see <see cref="NacosOptions.RecoveryGrace"/>).</summary>
    public long RecoveryUntil { get; set; }

    /// <summary>Until this timestamp an unknown service is answered from the cache; then it is asked again.</summary>
    public long UnknownUntil { get; set; } = long.MaxValue;

    /// <summary>Whether the first load found the service unknown (then no poll loop runs for it).</summary>
    public bool IsUnknown => Loaded.IsValueCreated && Loaded.Value.IsCompleted && !_list.Known;

    /// <summary>The latest push-triggered refresh (tests wait for it).</summary>
    public Task Signalled => Volatile.Read(ref _signalled);

    public void SetSignalled(Task task) => Volatile.Write(ref _signalled, task);

    /// <summary>Marks a push; true when no push-triggered refresh is queued yet (the caller must start one).</summary>
    public bool SignalPush() => Interlocked.Exchange(ref _pushSignalled, 1) == 0;

    /// <summary>Called by the queued refresh once it holds the gate: later pushes need a refresh of their own.</summary>
    public void ClearPushSignal() => Volatile.Write(ref _pushSignalled, 0);

    /// <summary>Counted among the services kept fresh (<see cref="NacosOptions.MaxServices"/>); decided once, under <see cref="Gate"/>.</summary>
    public bool Admitted => Volatile.Read(ref _admission) == 1;

    /// <summary>Known to Nacos but refused: <see cref="NacosOptions.MaxServices"/> services were kept fresh already.</summary>
    public bool Refused => Volatile.Read(ref _admission) == 2;

    public void SetAdmission(bool admitted) => Volatile.Write(ref _admission, admitted ? 1 : 2);

    /// <summary>Not in the provider's cache (looked up while the unknown-name cache was full).</summary>
    public bool Transient { get; set; }

    public bool Polled => Volatile.Read(ref _polled) != 0;

    /// <summary>True for the one caller that must start the poll loop.</summary>
    public bool StartPolling() => Interlocked.Exchange(ref _polled, 1) == 0;

    /// <summary>The poll loop ended (its service is pushed over gRPC now).</summary>
    public void StopPolling() => Volatile.Write(ref _polled, 0);

    /// <summary>Marks the entry as counted among the unknown names.</summary>
    public void CountAsUnknown() => Volatile.Write(ref _countedUnknown, 1);

    /// <summary>True for the one caller that must take the entry off the unknown count (removed, or known at last).</summary>
    public bool UncountUnknown() => Interlocked.Exchange(ref _countedUnknown, 0) == 1;

    /// <summary>The newest list the server sent on its own (gRPC push, redo answer), not applied yet.</summary>
    public (NacosServiceInfo Info, string Body)? PendingList
    {
        get { lock (SnapshotLock) { return _pendingList; } }
        set { lock (SnapshotLock) { _pendingList = value; } }
    }

    public (NacosServiceInfo Info, string Body)? TakePendingList()
    {
        lock (SnapshotLock)
        {
            var pending = _pendingList;
            _pendingList = null;
            return pending;
        }
    }

    /// <summary>True for the one caller that must schedule the refresh at the end of the recovery window.</summary>
    public bool ScheduleRecoveryRefresh() => Interlocked.Exchange(ref _recoveryRefresh, 1) == 0;

    public void RecoveryRefreshDone() => Volatile.Write(ref _recoveryRefresh, 0);

    public void QueueSnapshot(string body) => Volatile.Write(ref _pendingSnapshot, body);

    public string? TakeSnapshot() => Interlocked.Exchange(ref _pendingSnapshot, null);
}

/// <summary>An immutable view of a service's instances, swapped as a whole.</summary>
internal sealed record CachedList(IReadOnlyList<ServiceInstance> Instances, string Signature, bool Known, string? Body)
{
    public static readonly CachedList Unknown = new([], string.Empty, false, null);
}
