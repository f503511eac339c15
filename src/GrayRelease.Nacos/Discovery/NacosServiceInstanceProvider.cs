using System.Collections.Concurrent;
using System.Net;
using GrayRelease.Discovery;
using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Http;
using GrayRelease.Nacos.Naming;
using LogThrottle = GrayRelease.Diagnostics.LogThrottle;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Discovery;

/// <summary>
/// Service instances from Nacos: the first lookup of a service fetches and subscribes it; afterwards answers come from
/// a cache kept fresh, over HTTP, by polling at the server's <c>cacheMillis</c> and by UDP push (a signal to fetch
/// again), over gRPC by the server's pushes on the subscription; backed by an on-disk snapshot.
/// </summary>
public sealed partial class NacosServiceInstanceProvider : IServiceInstanceProvider, IAsyncDisposable, IDisposable
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
    private readonly NacosNamingTransportSelector _transports;
    private readonly NacosOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly InstanceSnapshotStore _snapshots;
    private readonly CancellationTokenSource _disposed = new();
    private readonly Lazy<UdpPushReceiver?> _push;
    private volatile INacosNamingTransport? _transport;
    private int _unknownCount;
    private int _capLogged;

    // Services admitted under nacos:MaxServices; one the load balancer stopped picking gives its slot back (Evict.cs).
    private int _knownCount;
    private readonly LogThrottle _refusedLog;

    internal NacosServiceInstanceProvider(NacosNamingClient naming, NacosHttpClient http, NacosOptions options, TimeProvider timeProvider, ILogger<NacosServiceInstanceProvider> logger)
        : this(NacosNamingTransportSelector.Fixed(new HttpNamingTransport(naming, http, options.GroupName)), http, options, timeProvider, logger)
    {
    }

    internal NacosServiceInstanceProvider(NacosNamingTransportSelector transports, NacosHttpClient http, NacosOptions options, TimeProvider timeProvider, ILogger<NacosServiceInstanceProvider> logger)
    {
        _transports = transports;
        _options = options;
        _time = timeProvider;
        _refusedLog = new LogThrottle(TimeSpan.FromMinutes(10), timeProvider);
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

        var entry = await PastEvictionAsync(GetEntry(serviceName), cancellationToken).ConfigureAwait(false);
        var loaded = entry.Loaded.Value;
        if (!loaded.IsCompleted)
        {
            await loaded.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        if (entry.Refused)
        {
            throw new NacosException($"nacos:MaxServices ({_options.MaxServices}) reached: service '{serviceName}' is not cached, subscribed or polled, so it cannot be routed to. Raise nacos:MaxServices if this process calls that many services.");
        }

        return entry.List.Known ? entry.List.Instances : null;
    }

    /// <summary>How many services are counted against <see cref="NacosOptions.MaxServices"/> (tests).</summary>
    internal int KnownServiceCount => Volatile.Read(ref _knownCount);

    /// <summary>
    /// Admits a service the registry knows into the set kept fresh, once; beyond <see cref="NacosOptions.MaxServices"/> it
    /// is refused before its list is applied, so no subscriber (the load balancer) ever holds a list nothing refreshes.
    /// The caller holds the entry's gate.
    /// </summary>
    private bool Admit(ServiceCacheEntry entry)
    {
        if (entry.Admitted)
        {
            return true;
        }

        if (entry.Refused)
        {
            return false;
        }

        if (Interlocked.Increment(ref _knownCount) <= _options.MaxServices)
        {
            entry.SetAdmission(true);
            return true;
        }

        Interlocked.Decrement(ref _knownCount);
        entry.SetAdmission(false);
        if (_refusedLog.TryEnter(out var unlogged))
        {
            Log.KnownServiceCapReached(_logger, _options.MaxServices, unlogged + 1, entry.Name);
        }

        return false;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        _disposed.Cancel();
        _transport?.SetListHandler(null);
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
        _transport?.SetListHandler(null);
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
}
