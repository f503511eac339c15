using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using GrayRelease.Discovery;
using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Http;
using GrayRelease.Nacos.Naming;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Discovery;

/// <summary>
/// Service instances from Nacos: the first lookup of a service fetches and subscribes it; afterwards answers come from
/// a cache kept fresh by polling at the server's <c>cacheMillis</c> and by UDP push (a signal to fetch again), and
/// backed by an on-disk snapshot.
/// </summary>
public sealed class NacosServiceInstanceProvider : IServiceInstanceProvider, IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan MinPollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxPollInterval = TimeSpan.FromMinutes(1);

    /// <summary>How long "unknown" is remembered for a name Nacos lists no instance of; no loop runs for it.</summary>
    internal static readonly TimeSpan UnknownServiceTtl = TimeSpan.FromSeconds(10);

    /// <summary>At most this many names are cached as unknown: every host name sent through a gray-aware client is looked up.</summary>
    internal const int MaxUnknownServices = 1000;

    /// <summary>After this many older answers in a row, the server's clock is taken as behind (a failover) and its answer applied.</summary>
    private const int MaxStaleInARow = 3;

    // Nacos service names are case-sensitive: "UserApp" and "userapp" are two services.
    private readonly ConcurrentDictionary<string, ServiceCacheEntry> _entries = new(StringComparer.Ordinal);
    private readonly NacosNamingClient _naming;
    private readonly NacosHttpClient _http;
    private readonly NacosOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly InstanceSnapshotStore _snapshots;
    private readonly CancellationTokenSource _disposed = new();
    private readonly Lazy<UdpPushReceiver?> _push;
    private int _unknownCount;
    private int _capLogged;

    internal NacosServiceInstanceProvider(NacosNamingClient naming, NacosHttpClient http, NacosOptions options, TimeProvider timeProvider, ILogger<NacosServiceInstanceProvider> logger)
    {
        _naming = naming;
        _http = http;
        _options = options;
        _time = timeProvider;
        _logger = logger;
        var root = options.GetSnapshotPath();
        _snapshots = new InstanceSnapshotStore(root, Path.Combine(root, "naming", InstanceSnapshotStore.Sanitize(options.NamingNamespace)), logger);
        _push = new Lazy<UdpPushReceiver?>(
            () => options.UdpPushEnabled ? UdpPushReceiver.TryStart(options, http.Servers, OnPush, logger) : null,
            LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <inheritdoc />
    public event EventHandler<ServiceInstancesChangedEventArgs>? InstancesChanged;

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<ServiceInstance>?> GetInstancesAsync(string serviceName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(serviceName);
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        if (IsAddress(serviceName))
        {
            return null;
        }

        var entry = GetEntry(serviceName);
        var loaded = entry.Loaded.Value;
        if (!loaded.IsCompleted)
        {
            await loaded.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return entry.List.Known ? entry.List.Instances : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        _disposed.Cancel();
        if (_push.IsValueCreated && _push.Value is { } push)
        {
            // DisposeAsync only waits for the receive loop, which ends as soon as the socket is closed.
            push.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        await _disposed.CancelAsync().ConfigureAwait(false);
        if (_push.IsValueCreated && _push.Value is { } push)
        {
            await push.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>IP literals and <c>localhost</c> are never service names: answer without asking Nacos.</summary>
    internal static bool IsAddress(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || IPAddress.TryParse(host.Trim('[', ']'), out _);

    internal static ServiceInstance[] Map(string serviceName, IReadOnlyList<NacosHost> hosts) => InstanceListMapper.Map(serviceName, hosts);

    internal UdpPushReceiver? PushReceiver => _push.Value;

    /// <summary>Refreshes a service already looked up, as a poll would (tests race it against push).</summary>
    internal async Task RefreshNowAsync(string serviceName, CancellationToken cancellationToken)
    {
        if (_entries.TryGetValue(serviceName, out var entry))
        {
            await RefreshAndSaveAsync(entry, "poll", fromPush: false, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Completes once no push-triggered refresh of the service is pending (for tests).</summary>
    internal async Task IdleAsync(string serviceName)
    {
        if (!_entries.TryGetValue(serviceName, out var entry))
        {
            return;
        }

        while (true)
        {
            var signalled = entry.Signalled;
            await signalled.ConfigureAwait(false);
            if (ReferenceEquals(signalled, entry.Signalled))
            {
                return;
            }
        }
    }

    /// <summary>The current poll period of a service looked up before (for tests).</summary>
    internal TimeSpan? GetPollInterval(string serviceName) => _entries.TryGetValue(serviceName, out var entry) ? entry.PollInterval : null;

    /// <summary>Whether a poll loop runs for the service (for tests).</summary>
    internal bool IsPolled(string serviceName) => _entries.TryGetValue(serviceName, out var entry) && entry.Polled;

    private ServiceCacheEntry GetEntry(string serviceName)
    {
        while (true)
        {
            if (_entries.TryGetValue(serviceName, out var existing))
            {
                if (!existing.IsUnknown || _time.GetTimestamp() < existing.UnknownUntil)
                {
                    return existing;
                }

                // Unknown for a while: forget it, so this lookup asks Nacos again.
                if (_entries.TryRemove(new KeyValuePair<string, ServiceCacheEntry>(serviceName, existing)) && existing.UncountUnknown())
                {
                    Interlocked.Decrement(ref _unknownCount);
                }

                continue;
            }

            var entry = NewEntry(serviceName);
            if (Volatile.Read(ref _unknownCount) >= MaxUnknownServices)
            {
                SweepUnknown();
            }

            if (Volatile.Read(ref _unknownCount) >= MaxUnknownServices)
            {
                // Not cached: asked on every lookup until it turns out known (then it is cached and polled).
                if (Interlocked.Exchange(ref _capLogged, 1) == 0)
                {
                    Log.ServiceCapReached(_logger, serviceName, MaxUnknownServices);
                }

                entry.Transient = true;
                return entry;
            }

            if (_entries.TryAdd(serviceName, entry))
            {
                return entry;
            }
        }
    }

    private ServiceCacheEntry NewEntry(string serviceName)
    {
        var entry = new ServiceCacheEntry(serviceName);
        entry.Loaded = new Lazy<Task>(() => StartBackground(() => LoadFirstAsync(entry)), LazyThreadSafetyMode.ExecutionAndPublication);
        return entry;
    }

    private void SweepUnknown()
    {
        var now = _time.GetTimestamp();
        foreach (var pair in _entries)
        {
            if (pair.Value.IsUnknown && now >= pair.Value.UnknownUntil && _entries.TryRemove(pair) && pair.Value.UncountUnknown())
            {
                Interlocked.Decrement(ref _unknownCount);
            }
        }
    }

    /// <summary>
    /// Starts work that outlives the caller without its execution context: a poll loop started inside a gray request
    /// would otherwise carry that request's gray tag, Activity and log scope for the application's lifetime.
    /// </summary>
    private static Task StartBackground(Func<Task> work)
    {
        if (ExecutionContext.IsFlowSuppressed())
        {
            return Task.Run(work);
        }

        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(work);
        }
    }

    private async Task LoadFirstAsync(ServiceCacheEntry entry)
    {
        var token = _disposed.Token;
        try
        {
            // Binding the push socket first lets the very first list call subscribe it.
            _ = _push.Value;
            var answered = await RefreshAndSaveAsync(entry, "list", fromPush: false, token).ConfigureAwait(false);
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
                return;
            }

            entry.Transient = false;
        }

        if (entry.StartPolling())
        {
            _ = StartBackground(() => PollAsync(entry, _disposed.Token));
        }
    }

    private async Task PollAsync(ServiceCacheEntry entry, CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(entry.PollInterval, _time, token).ConfigureAwait(false);
                await RefreshAndSaveAsync(entry, "poll", fromPush: false, token).ConfigureAwait(false);
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

    /// <summary>A refresh, then the snapshot write it queued (outside the gate, so it never delays ordering).</summary>
    private async Task<bool> RefreshAndSaveAsync(ServiceCacheEntry entry, string source, bool fromPush, CancellationToken token)
    {
        var answered = await RefreshAsync(entry, source, fromPush, token).ConfigureAwait(false);
        FlushSnapshot(entry);
        return answered;
    }

    /// <summary>Fetches the list and applies it, under the service's gate; false when no usable answer came (logged).</summary>
    private async Task<bool> RefreshAsync(ServiceCacheEntry entry, string source, bool fromPush, CancellationToken token)
    {
        await entry.Gate.WaitAsync(token).ConfigureAwait(false);
        try
        {
            if (fromPush)
            {
                // From here on, a new push may have been sent after this fetch started: it needs a fetch of its own.
                entry.ClearPushSignal();
            }

            var push = _push.IsValueCreated ? _push.Value : null;
            var (info, body) = await _naming.ListAsync(entry.Name, _options.GroupName, push?.Port ?? 0, push?.ClientIp, token).ConfigureAwait(false);
            if (info is null || !string.Equals(info.BareName, entry.Name, StringComparison.Ordinal))
            {
                Log.MalformedInstanceList(_logger, entry.Name, entry.List.Instances.Count, NacosNamingClient.Truncate(body));
                return false;
            }

            // Nacos was down since this service's last answer (seen by this refresh, a heartbeat or any other call): a
            // restarted server lists instances only as they re-register, so merge for a while instead of replacing.
            var outages = _http.OutageCount;
            if (entry.Unreachable || outages != entry.OutagesSeen)
            {
                entry.Unreachable = false;
                entry.OutagesSeen = outages;
                if (_options.RecoveryGrace > TimeSpan.Zero && entry.List.Known)
                {
                    entry.RecoveryUntil = _time.GetTimestamp() + (long)(_options.RecoveryGrace.TotalSeconds * _time.TimestampFrequency);
                    Log.RecoveryStarted(_logger, _options.RecoveryGrace);
                }
            }

            // Only an HTTP answer sets the poll period: a datagram's cacheMillis is never trusted.
            entry.PollInterval = TimeSpan.FromMilliseconds(Math.Clamp(info.CacheMillis, MinPollInterval.TotalMilliseconds, MaxPollInterval.TotalMilliseconds));
            if (IsOlderThanApplied(entry, info))
            {
                return true;
            }

            ApplyLocked(entry, info, body, source);
            return true;
        }
        catch (Exception ex) when (ex is NacosUnavailableException or NacosProtocolException or NacosAuthenticationException)
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

    /// <summary>An answer older than the applied one (a slower server, a late reply) must not undo a newer list.</summary>
    private bool IsOlderThanApplied(ServiceCacheEntry entry, NacosServiceInfo info)
    {
        if (info.LastRefTime <= 0 || entry.AppliedRefTime <= 0 || info.LastRefTime >= entry.AppliedRefTime)
        {
            entry.StaleInARow = 0;
            entry.AppliedRefTime = Math.Max(info.LastRefTime, 0);
            return false;
        }

        if (++entry.StaleInARow >= MaxStaleInARow)
        {
            entry.StaleInARow = 0;
            entry.AppliedRefTime = info.LastRefTime;
            return false;
        }

        Log.StaleAnswerIgnored(_logger, entry.Name, info.LastRefTime, entry.AppliedRefTime);
        return true;
    }

    private async Task LoadSnapshotAsync(ServiceCacheEntry entry, bool answered, CancellationToken token)
    {
        var groupedName = NacosNames.Grouped(entry.Name, _options.GroupName);
        string? body;
        try
        {
            body = _snapshots.TryLoad(groupedName);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.SnapshotReadFailed(_logger, ex, _snapshots.GetPath(groupedName));
            return;
        }

        if (body is null || NacosJson.ParseServiceInfo(body) is not { Hosts.Count: > 0 } info
            || !string.Equals(info.BareName, entry.Name, StringComparison.Ordinal))
        {
            return;
        }

        await entry.Gate.WaitAsync(token).ConfigureAwait(false);
        try
        {
            if (entry.List.Known)
            {
                return;
            }

            if (answered && !_options.PushEmptyProtection)
            {
                // Nacos answered an empty list and protection is off: a known service with no instance, not "unknown".
                SetList(entry, [], string.Empty, body, "list");
                return;
            }

            Log.ServedFromSnapshot(_logger, entry.Name, info.Hosts.Count, _snapshots.GetPath(groupedName));
            var instances = InstanceListMapper.Map(entry.Name, info.Hosts);
            SetList(entry, instances, InstanceListMapper.Signature(instances), body, "snapshot");
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    private string? OnPush(NacosPushPacket packet)
    {
        if (packet.Type == "dump")
        {
            return BuildDump();
        }

        if (packet.Data is null || NacosJson.ParseServiceInfo(packet.Data) is not { } info)
        {
            Log.MalformedPush(_logger, packet.Data?.Length ?? 0, "push data");
            return null;
        }

        // The datagram only says "this service changed": its list is never applied (anyone who can send to this port
        // could forge it); the list is fetched over HTTP, the authenticated channel, like a poll.
        var group = info.GroupName ?? (info.Name.Contains(NacosNames.Separator, StringComparison.Ordinal) ? info.Name[..info.Name.IndexOf(NacosNames.Separator, StringComparison.Ordinal)] : NacosNames.DefaultGroup);
        if (info.Clusters.Length == 0 && string.Equals(group, _options.GroupName, StringComparison.Ordinal)
            && _entries.TryGetValue(info.BareName, out var entry) && entry.SignalPush())
        {
            entry.SetSignalled(StartBackground(() => RefreshOnPushAsync(entry)));
        }

        return null;
    }

    private async Task RefreshOnPushAsync(ServiceCacheEntry entry)
    {
        var token = _disposed.Token;
        try
        {
            await RefreshAndSaveAsync(entry, "push", fromPush: true, token).ConfigureAwait(false);
            if (entry.List.Known)
            {
                EnsurePolled(entry);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // A failed push-triggered fetch is retried by the next poll.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            entry.ClearPushSignal();
            Log.BackgroundRefreshFailed(_logger, ex, entry.Name);
        }
    }

    private string BuildDump()
    {
        var builder = new StringBuilder("{");
        foreach (var entry in _entries.Values)
        {
            if (entry.List.Body is { } body)
            {
                if (builder.Length > 1)
                {
                    builder.Append(',');
                }

                builder.Append(JsonSerializer.Serialize(NacosNames.Grouped(entry.Name, _options.GroupName))).Append(':').Append(body);
            }
        }

        return builder.Append('}').ToString();
    }

    /// <summary>Applies an answer; the caller holds the entry's gate.</summary>
    private void ApplyLocked(ServiceCacheEntry entry, NacosServiceInfo info, string body, string source)
    {
        var current = entry.List;
        if (info.Hosts.Count == 0 && current.Instances.Count > 0 && _options.PushEmptyProtection)
        {
            Log.EmptyListIgnored(_logger, entry.Name, current.Instances.Count);
            return;
        }

        if (info.Hosts.Count == 0 && !current.Known)
        {
            return;
        }

        var instances = InstanceListMapper.Map(entry.Name, info.Hosts);
        if (current.Known && _time.GetTimestamp() < entry.RecoveryUntil)
        {
            instances = InstanceListMapper.KeepMissing(current.Instances, instances, out var kept);
            if (kept > 0)
            {
                Log.KeptDuringRecovery(_logger, entry.Name, kept);
            }
        }

        var signature = InstanceListMapper.Signature(instances);
        if (current.Known && signature == current.Signature)
        {
            return;
        }

        entry.QueueSnapshot(body);
        SetList(entry, instances, signature, body, source);
    }

    /// <summary>Swaps the list and raises the event, still under the gate: subscribers see changes in state order.</summary>
    private void SetList(ServiceCacheEntry entry, ServiceInstance[] instances, string signature, string body, string source)
    {
        entry.List = new CachedList(instances, signature, Known: true, body);
        Log.InstancesChanged(_logger, entry.Name, instances.Length, source);
        NacosMetrics.InstancesChanged(entry.Name, source);
        try
        {
            InstancesChanged?.Invoke(this, new ServiceInstancesChangedEventArgs(entry.Name, instances));
        }
#pragma warning disable CA1031 // A subscriber's failure must not stop the push / poll loops.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ChangeHandlerFailed(_logger, ex, entry.Name);
        }
    }

    /// <summary>Writes the newest queued body; taking and writing under one lock keeps an older body from landing last.</summary>
    private void FlushSnapshot(ServiceCacheEntry entry)
    {
        lock (entry.SnapshotLock)
        {
            if (entry.TakeSnapshot() is not { } body)
            {
                return;
            }

            var groupedName = NacosNames.Grouped(entry.Name, _options.GroupName);
            try
            {
                _snapshots.Save(groupedName, body);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.SnapshotWriteFailed(_logger, ex, _snapshots.GetPath(groupedName));
            }
        }
    }
}
