using System.Collections.Concurrent;
using GrayRelease.Diagnostics;
using GrayRelease.Discovery;
using GrayRelease.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrayRelease.LoadBalancing;

/// <summary>
/// Version-filtering round-robin load balancer. Keeps one <see cref="ServiceRoutingTable"/> per service, rebuilt
/// when the provider reports a change; the per-call path reads the current options and table and allocates nothing.
/// A table not picked for <see cref="GrayReleaseOptions.IdleServiceTimeout"/> is forgotten (GrayLoadBalancer.Eviction.cs).
/// </summary>
internal sealed partial class GrayLoadBalancer : IGrayLoadBalancer, IDisposable
{
    // A host the provider did not know is asked about again after this long (it may register later).
    private static readonly TimeSpan UnknownServiceRecheck = TimeSpan.FromSeconds(5);

    // The cap on remembered unknown names is logged at most this often, with how many names it turned away meanwhile.
    private static readonly TimeSpan UnknownCapLogInterval = TimeSpan.FromMinutes(10);

    // A provider failure fails the call that met it; a provider that keeps failing (a registry limit, an outage without
    // a snapshot) would otherwise write one warning with its stack trace per request.
    private static readonly TimeSpan ProviderFailureLogInterval = TimeSpan.FromSeconds(10);

    // Ordinal: registry names are case-sensitive (Nacos), so UserApp and userapp are two services with two tables.
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly IServiceInstanceProvider _provider;
    private readonly TimeProvider _timeProvider;
    private readonly GrayReleaseMetrics _metrics;
    private readonly ILogger _logger;
    private readonly IDisposable? _optionsSubscription;

    // Entries without a table (names the provider did not know): any host name sent through a gray-aware client gets
    // one, so they are counted and capped by GrayRelease:MaxUnknownServices.
    private int _unknownCount;
    private long _nextSweep;
    private readonly LogThrottle _capLog;
    private readonly LogThrottle _failureLog;

    // Read on every pick: a field is cheaper than IOptionsMonitor.CurrentValue (a cache lookup per call).
    private GrayReleaseOptions _currentOptions;

    public GrayLoadBalancer(
        IServiceInstanceProvider provider,
        IOptionsMonitor<GrayReleaseOptions> options,
        TimeProvider timeProvider,
        GrayReleaseMetrics metrics,
        ILogger<GrayLoadBalancer> logger)
    {
        _provider = provider;
        _timeProvider = timeProvider;
        _capLog = new LogThrottle(UnknownCapLogInterval, timeProvider);
        _failureLog = new LogThrottle(ProviderFailureLogInterval, timeProvider);
        _metrics = metrics;
        _logger = logger;
        _currentOptions = options.CurrentValue;
        _optionsSubscription = options.OnChange(OnOptionsChanged);
        _provider.InstancesChanged += OnInstancesChanged;
        StartIdleSweep();
    }

    public ValueTask<ServiceInstance?> PickAsync(string serviceName, GrayStatus? status, CancellationToken cancellationToken = default) =>
        PickInLaneAsync(serviceName, status, null, cancellationToken);

    public ValueTask<ServiceInstance?> PickInLaneAsync(string serviceName, GrayStatus? status, string? lane, CancellationToken cancellationToken = default) =>
        PickInLaneAsync(serviceName, status, null, lane, cancellationToken);

    /// <summary>
    /// <see cref="PickInLaneAsync(string, GrayStatus?, string?, CancellationToken)"/> with the lane as the request's
    /// <see cref="GrayContext"/> interned it (<paramref name="laneKey"/>; <see langword="null"/> when unknown): the
    /// handler's path, so a pick reads the lane's route by index.
    /// </summary>
    internal ValueTask<ServiceInstance?> PickInLaneAsync(string serviceName, GrayStatus? status, LaneKey? laneKey, string? lane, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(serviceName);
        if (_entries.TryGetValue(serviceName, out var entry))
        {
            if (entry.Table is { } table)
            {
                entry.Use.MarkPicked();
                return new ValueTask<ServiceInstance?>(Pick(table, status, laneKey, lane));
            }

            if (_timeProvider.GetTimestamp() < entry.RecheckAt)
            {
                return new ValueTask<ServiceInstance?>((ServiceInstance?)null);
            }
        }

        return LoadAndPickAsync(serviceName, status, laneKey, lane, cancellationToken);
    }

    public void ReportConnectionFailure(ServiceInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var quarantine = Volatile.Read(ref _currentOptions).FailedInstanceQuarantine;
        if (quarantine <= TimeSpan.Zero)
        {
            return;
        }

        var until = _timeProvider.GetTimestamp() + (long)(quarantine.TotalSeconds * _timeProvider.TimestampFrequency);
        if (_entries.TryGetValue(instance.ServiceName, out var entry) && entry.Table is { } table && Quarantine(table, instance, until, quarantine))
        {
            return;
        }

        // A provider that matches names case-insensitively (configuration) may answer a lookup spelled differently
        // from the instances' own ServiceName; a refused connection is rare, so search the other tables for it.
        foreach (var (_, other) in _entries)
        {
            if (other.Table is { } otherTable && !ReferenceEquals(otherTable, entry?.Table) && Contains(otherTable, instance))
            {
                Quarantine(otherTable, instance, until, quarantine);
            }
        }
    }

    private static bool Contains(ServiceRoutingTable table, ServiceInstance instance)
    {
        foreach (var known in table.All.Instances)
        {
            if (ReferenceEquals(known.Instance, instance))
            {
                return true;
            }
        }

        return false;
    }

    private bool Quarantine(ServiceRoutingTable table, ServiceInstance instance, long until, TimeSpan quarantine)
    {
        var found = false;
        foreach (var known in table.All.Instances)
        {
            if (ReferenceEquals(known.Instance, instance) || string.Equals(known.Instance.Address, instance.Address, StringComparison.OrdinalIgnoreCase))
            {
                known.QuarantineUntil(until);
                table.ExtendQuarantineHorizon(until);
                Log.InstanceQuarantined(_logger, instance.ServiceName, instance.Address, quarantine);
                found = true;
            }
        }

        return found;
    }

    public void Dispose()
    {
        _provider.InstancesChanged -= OnInstancesChanged;
        _optionsSubscription?.Dispose();
        StopIdleSweep();
    }

    private void OnOptionsChanged(GrayReleaseOptions options, string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            Volatile.Write(ref _currentOptions, options);
            OnIdleServiceTimeoutChanged(options);
        }
    }

    /// <summary>How many service names the balancer holds an entry for, tables and remembered unknown names (tests).</summary>
    internal int CachedNameCount => _entries.Count;

    /// <summary>How many remembered names the provider did not know (tests).</summary>
    internal int UnknownCount => Volatile.Read(ref _unknownCount);

    internal ServiceRoutingTable? GetTable(string serviceName) =>
        _entries.TryGetValue(serviceName, out var entry) ? entry.Table : null;

    private ServiceInstance Pick(ServiceRoutingTable table, GrayStatus? status, LaneKey? laneKey, string? lane)
    {
        var options = Volatile.Read(ref _currentOptions);
        if (!table.IsGroupedFor(options))
        {
            // A metadata key was reconfigured: regroup once, then continue on the fast path.
            table = Rebuild(table.ServiceName, table, options);
        }

        var route = table.GetRoute(options, status, laneKey, lane);
        if (route.Group.IsEmpty)
        {
            _metrics.NoInstance(table.ServiceName, status, LaneTag(laneKey, lane));
            var failure = table.Fail(status, lane, route);
            Log.NoAvailableInstance(_logger, failure.Message);
            throw new NoAvailableInstanceException(failure);
        }

        // Reading the clock costs as much as the rest of a pick: only do it while some quarantine is running.
        RouteMember<ServiceInstance> picked;
        var horizon = table.QuarantineHorizon;
        if (horizon == 0)
        {
            picked = route.Group.Pick();
        }
        else
        {
            var now = _timeProvider.GetTimestamp();
            if (now >= horizon)
            {
                table.ClearQuarantineHorizon(horizon);
            }

            picked = route.Group.Pick(now);
        }

        _metrics.InstancePicked(table.ServiceName, picked.Version, picked.Lane);
        return picked.Instance;
    }

    // The lane of a request comes from a header: only a lane this process knows (configured, or in the registry) may
    // become a tag value, so a client cannot grow the metric's series by inventing lanes.
    private static string LaneTag(LaneKey? laneKey, string? lane) =>
        lane is null ? string.Empty : (laneKey ?? LaneRegistry.Find(lane))?.Name ?? GrayReleaseMetrics.UnknownLane;

    private async ValueTask<ServiceInstance?> LoadAndPickAsync(string serviceName, GrayStatus? status, LaneKey? laneKey, string? lane, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<ServiceInstance>? instances;
        try
        {
            ValueTask<IReadOnlyList<ServiceInstance>?> lookup;

            // The first lookup runs inside a request, and a registry provider typically starts its refresh loop right
            // here: that loop lives for the process and must not carry this request's gray tag, Activity or log scope.
            using (ExecutionContext.SuppressFlow())
            {
                lookup = _provider.GetInstancesAsync(serviceName, cancellationToken);
            }

            instances = await lookup.ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            ProviderFailed(serviceName, exception);
            throw;
        }

        if (instances is null)
        {
            // The caller's own request still goes out untouched, as this answer said.
            RememberUnknown(serviceName);
            return null;
        }

        ServiceRoutingTable? built = null;
        while (true)
        {
            if (_entries.TryGetValue(serviceName, out var existing))
            {
                // A change event may have raced ahead of this first answer: the table it built is newer, keep it.
                if (existing.Table is { } newer)
                {
                    return Pick(newer, status, laneKey, lane);
                }

                built ??= BuildTable(serviceName, instances, null);
                if (_entries.TryUpdate(serviceName, new Entry(built, 0), existing))
                {
                    Release(existing);
                    return Pick(built, status, laneKey, lane);
                }
            }
            else
            {
                built ??= BuildTable(serviceName, instances, null);
                if (_entries.TryAdd(serviceName, new Entry(built, 0)))
                {
                    return Pick(built, status, laneKey, lane);
                }
            }
        }
    }

    /// <summary>
    /// Remembers that the provider does not know <paramref name="serviceName"/>, so it is asked again only after
    /// <see cref="UnknownServiceRecheck"/>; beyond <see cref="GrayReleaseOptions.MaxUnknownServices"/> such names it is
    /// not remembered (asked on every call) rather than letting callers' host names grow the cache without end.
    /// </summary>
    private void RememberUnknown(string serviceName)
    {
        var recheckAt = _timeProvider.GetTimestamp() + (long)(UnknownServiceRecheck.TotalSeconds * _timeProvider.TimestampFrequency);
        while (true)
        {
            if (_entries.TryGetValue(serviceName, out var existing))
            {
                // A change event that landed during the lookup built a table from a newer list: keep it.
                if (existing.Table is not null)
                {
                    return;
                }

                // One unknown entry replaces another: counted before it is stored, the old one released after.
                Interlocked.Increment(ref _unknownCount);
                var replacement = new Entry(null, recheckAt, counted: true);
                if (_entries.TryUpdate(serviceName, replacement, existing))
                {
                    Release(existing);
                    return;
                }

                Release(replacement);
                continue;
            }

            if (!TryReserveUnknown(serviceName))
            {
                return;
            }

            var entry = new Entry(null, recheckAt, counted: true);
            if (_entries.TryAdd(serviceName, entry))
            {
                return;
            }

            Release(entry);
        }
    }

    private bool TryReserveUnknown(string serviceName)
    {
        var max = Volatile.Read(ref _currentOptions).MaxUnknownServices;
        for (var attempt = 0; attempt < 2; attempt++)
        {
            if (Interlocked.Increment(ref _unknownCount) <= max)
            {
                return true;
            }

            Interlocked.Decrement(ref _unknownCount);
            if (attempt > 0 || !SweepExpiredUnknown())
            {
                break;
            }
        }

        UnknownCapReached(serviceName, max);
        return false;
    }

    /// <summary>Drops unknown names past their recheck time; at most once a second, so a full cache is not scanned per call.</summary>
    private bool SweepExpiredUnknown()
    {
        var now = _timeProvider.GetTimestamp();
        var next = Interlocked.Read(ref _nextSweep);
        if (now < next || Interlocked.CompareExchange(ref _nextSweep, now + _timeProvider.TimestampFrequency, next) != next)
        {
            return false;
        }

        var removed = false;
        foreach (var pair in _entries)
        {
            if (pair.Value.Table is null && now >= pair.Value.RecheckAt && _entries.TryRemove(pair))
            {
                Release(pair.Value);
                removed = true;
            }
        }

        return removed;
    }

    private void UnknownCapReached(string serviceName, int max)
    {
        if (max == 0)
        {
            return; // remembering none was asked for
        }

        if (_capLog.TryEnter(out var skipped))
        {
            Log.UnknownServiceCapReached(_logger, max, skipped + 1, serviceName);
        }
    }

    private void ProviderFailed(string serviceName, Exception exception)
    {
        if (_failureLog.TryEnter(out var unlogged))
        {
            Log.ProviderFailed(_logger, serviceName, unlogged, exception);
        }
    }

    /// <summary>An entry left the cache (replaced or removed): take it off the unknown count if it was on it.</summary>
    private void Release(Entry entry)
    {
        if (entry.Uncount())
        {
            Interlocked.Decrement(ref _unknownCount);
        }
    }

    /// <summary>Stores a table, releasing whatever entry it replaces.</summary>
    private void Store(string serviceName, ServiceRoutingTable table)
    {
        while (true)
        {
            if (_entries.TryGetValue(serviceName, out var existing))
            {
                // A new list does not make the service used: it keeps its pick record, or a service whose instances
                // keep changing would never be idle.
                var entry = new Entry(table, 0, use: existing.Table is null ? null : existing.Use);
                if (_entries.TryUpdate(serviceName, entry, existing))
                {
                    Release(existing);
                    return;
                }
            }
            else if (_entries.TryAdd(serviceName, new Entry(table, 0)))
            {
                return;
            }
        }
    }

    private void OnInstancesChanged(object? sender, ServiceInstancesChangedEventArgs change)
    {
        try
        {
            var previous = GetTable(change.ServiceName);
            var table = BuildTable(change.ServiceName, change.Instances, previous);
            Store(change.ServiceName, table);
        }
        catch (Exception exception)
        {
            // Never let one bad list break the provider's notification loop; the previous table stays.
            Log.ChangeHandlerFailed(_logger, change.ServiceName, exception);
        }
    }

    private ServiceRoutingTable Rebuild(string serviceName, ServiceRoutingTable table, GrayReleaseOptions options)
    {
        while (true)
        {
            if (!_entries.TryGetValue(serviceName, out var entry) || entry.Table is not { } current)
            {
                return Regroup(serviceName, table, options);
            }

            if (current.IsGroupedFor(options))
            {
                return current;
            }

            // Replace only the entry that was regrouped: a change event may have stored a newer list meanwhile, and
            // then that list is the one to regroup.
            var rebuilt = Regroup(serviceName, current, options);
            if (_entries.TryUpdate(serviceName, new Entry(rebuilt, 0, use: entry.Use), entry))
            {
                return rebuilt;
            }
        }
    }

    private static ServiceRoutingTable Regroup(string serviceName, ServiceRoutingTable table, GrayReleaseOptions options)
    {
        var instances = new ServiceInstance[table.All.Count];
        for (var i = 0; i < instances.Length; i++)
        {
            instances[i] = table.All.Instances[i].Instance;
        }

        return ServiceRoutingTable.Build(serviceName, instances, options.MetadataKey, null, options.LaneMetadataKey);
    }

    private ServiceRoutingTable BuildTable(string serviceName, IReadOnlyList<ServiceInstance> instances, ServiceRoutingTable? previous)
    {
        var options = Volatile.Read(ref _currentOptions);
        var table = ServiceRoutingTable.Build(serviceName, instances, options.MetadataKey, previous, options.LaneMetadataKey);
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            Log.RoutingTableRebuilt(_logger, serviceName, table.InstanceCount, table.All.Count, string.Join(", ", table.AvailableVersions));
        }

        return table;
    }

    // A class, not a record: TryUpdate must compare entries by identity, never by value.
    private sealed class Entry(ServiceRoutingTable? table, long recheckAt, bool counted = false, ServiceUse? use = null)
    {
        private int _counted = counted ? 1 : 0;

        public ServiceRoutingTable? Table { get; } = table;

        /// <summary>Whether the service was picked lately; shared by the entries that replace one another (idle sweep).</summary>
        public ServiceUse Use { get; } = use ?? (table is null ? ServiceUse.None : new ServiceUse());

        public long RecheckAt { get; } = recheckAt;

        /// <summary>True for the one caller that must take this entry off the unknown count.</summary>
        public bool Uncount() => Interlocked.Exchange(ref _counted, 0) == 1;
    }
}
