using System.Collections.Concurrent;
using System.Globalization;
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
/// a cache kept fresh by UDP push and by polling at the server's <c>cacheMillis</c>, and backed by an on-disk snapshot.
/// </summary>
public sealed class NacosServiceInstanceProvider : IServiceInstanceProvider, IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan MinPollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxPollInterval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, ServiceEntry> _entries = new(StringComparer.OrdinalIgnoreCase);
    private readonly NacosNamingClient _naming;
    private readonly NacosHttpClient _http;
    private readonly NacosOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly InstanceSnapshotStore _snapshots;
    private readonly CancellationTokenSource _disposed = new();
    private readonly Lazy<UdpPushReceiver?> _push;

    internal NacosServiceInstanceProvider(NacosNamingClient naming, NacosHttpClient http, NacosOptions options, TimeProvider timeProvider, ILogger<NacosServiceInstanceProvider> logger)
    {
        _naming = naming;
        _http = http;
        _options = options;
        _time = timeProvider;
        _logger = logger;
        _snapshots = new InstanceSnapshotStore(Path.Combine(options.GetSnapshotPath(), "naming", InstanceSnapshotStore.Sanitize(options.NamingNamespace)));
        _push = new Lazy<UdpPushReceiver?>(
            () => options.UdpPushEnabled ? UdpPushReceiver.TryStart(http.Servers[0], OnPush, logger) : null,
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

        var entry = _entries.GetOrAdd(serviceName, static (name, self) => new ServiceEntry(name, self), this);
        var loaded = entry.Loaded;
        if (!loaded.IsCompleted)
        {
            await loaded.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return entry.State.Known ? entry.State.Instances : null;
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

    internal UdpPushReceiver? PushReceiver => _push.Value;

    /// <summary>Refreshes a service already looked up, as a poll would (tests race it against push).</summary>
    internal async Task RefreshNowAsync(string serviceName, CancellationToken cancellationToken)
    {
        if (_entries.TryGetValue(serviceName, out var entry))
        {
            await RefreshAsync(entry, "poll", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Completes once no refresh of the service is pending (for tests).</summary>
    internal Task IdleAsync(string serviceName) => Task.CompletedTask;

    /// <summary>The current poll period of a service looked up before (for tests).</summary>
    internal TimeSpan? GetPollInterval(string serviceName) => _entries.TryGetValue(serviceName, out var entry) ? entry.PollInterval : null;

    private async Task LoadFirstAsync(ServiceEntry entry)
    {
        var token = _disposed.Token;
        try
        {
            // Binding the push socket first lets the very first list call subscribe it.
            _ = await Task.Run(() => _push.Value, token).ConfigureAwait(false);
            if (!await RefreshAsync(entry, "list", token).ConfigureAwait(false))
            {
                LoadSnapshot(entry);
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
            Log.RefreshFailed(_logger, ex, entry.Name, entry.State.Instances.Count);
            LoadSnapshot(entry);
        }

        _ = Task.Run(() => PollAsync(entry, token), CancellationToken.None);
    }

    private async Task PollAsync(ServiceEntry entry, CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(entry.PollInterval, _time, token).ConfigureAwait(false);
                await RefreshAsync(entry, "poll", token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The poll loop must outlive any single bad answer.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.RefreshFailed(_logger, ex, entry.Name, entry.State.Instances.Count);
            }
        }
    }

    /// <summary>Fetches the list; returns false when no usable answer came (previous list kept, reason logged).</summary>
    private async Task<bool> RefreshAsync(ServiceEntry entry, string source, CancellationToken token)
    {
        var push = _push.IsValueCreated ? _push.Value : null;
        try
        {
            var (info, body) = await _naming.ListAsync(entry.Name, _options.GroupName, push?.Port ?? 0, push?.ClientIp, token).ConfigureAwait(false);
            if (info is null || !string.Equals(info.BareName, entry.Name, StringComparison.OrdinalIgnoreCase))
            {
                Log.MalformedInstanceList(_logger, entry.Name, entry.State.Instances.Count, NacosNamingClient.Truncate(body));
                return false;
            }

            // Nacos was down since this service's last answer (seen by this refresh, a heartbeat or any other call): a
            // restarted server lists instances only as they re-register, so merge for a while instead of replacing.
            var outages = _http.OutageCount;
            if (entry.Unreachable || outages != entry.OutagesSeen)
            {
                entry.Unreachable = false;
                entry.OutagesSeen = outages;
                if (_options.RecoveryGrace > TimeSpan.Zero && entry.State.Known)
                {
                    entry.RecoveryUntil = _time.GetTimestamp() + (long)(_options.RecoveryGrace.TotalSeconds * _time.TimestampFrequency);
                    Log.RecoveryStarted(_logger, _options.RecoveryGrace);
                }
            }

            Apply(entry, info, body, source);
            return true;
        }
        catch (Exception ex) when (ex is NacosUnavailableException or NacosProtocolException or NacosAuthenticationException)
        {
            entry.Unreachable |= ex is NacosUnavailableException;
            Log.RefreshFailed(_logger, ex, entry.Name, entry.State.Instances.Count);
            return false;
        }
    }

    private void LoadSnapshot(ServiceEntry entry)
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

        if (body is not null && NacosJson.ParseServiceInfo(body) is { Hosts.Count: > 0 } info && !entry.State.Known)
        {
            Log.ServedFromSnapshot(_logger, entry.Name, info.Hosts.Count, _snapshots.GetPath(groupedName));
            Apply(entry, info, body, "snapshot");
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

        var group = info.GroupName ?? (info.Name.Contains(NacosNames.Separator, StringComparison.Ordinal) ? info.Name[..info.Name.IndexOf(NacosNames.Separator, StringComparison.Ordinal)] : NacosNames.DefaultGroup);
        if (info.Clusters.Length == 0 && string.Equals(group, _options.GroupName, StringComparison.Ordinal)
            && _entries.TryGetValue(info.BareName, out var entry))
        {
            Apply(entry, info, packet.Data, "push");
        }

        return null;
    }

    private string BuildDump()
    {
        var builder = new StringBuilder("{");
        foreach (var entry in _entries.Values)
        {
            if (entry.State.Body is { } body)
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

    private void Apply(ServiceEntry entry, NacosServiceInfo info, string body, string source)
    {
        ServiceEntryState next;
        lock (entry)
        {
            var current = entry.State;
            entry.PollInterval = TimeSpan.FromMilliseconds(Math.Clamp(info.CacheMillis, MinPollInterval.TotalMilliseconds, MaxPollInterval.TotalMilliseconds));
            if (info.Hosts.Count == 0 && current.Instances.Count > 0 && _options.PushEmptyProtection)
            {
                Log.EmptyListIgnored(_logger, entry.Name, current.Instances.Count);
                return;
            }

            if (info.Hosts.Count == 0 && !current.Known)
            {
                return;
            }

            var instances = Map(entry.Name, info.Hosts);
            if (current.Known && _time.GetTimestamp() < entry.RecoveryUntil)
            {
                instances = KeepMissing(entry.Name, current.Instances, instances);
            }

            var signature = Signature(instances);
            if (current.Known && signature == current.Signature)
            {
                return;
            }

            next = new ServiceEntryState(instances, signature, Known: true, body);
            entry.State = next;
        }

        if (source != "snapshot")
        {
            SaveSnapshot(entry, body);
        }

        Log.InstancesChanged(_logger, entry.Name, next.Instances.Count, source);
        NacosMetrics.InstancesChanged(entry.Name, source);
        try
        {
            InstancesChanged?.Invoke(this, new ServiceInstancesChangedEventArgs(entry.Name, next.Instances));
        }
#pragma warning disable CA1031 // A subscriber's failure must not stop the push / poll loops.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ChangeHandlerFailed(_logger, ex, entry.Name);
        }
    }

    private void SaveSnapshot(ServiceEntry entry, string body)
    {
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

    /// <summary>The answer plus the cached instances it does not list (yet), in the same order as <see cref="Map"/>.</summary>
    private ServiceInstance[] KeepMissing(string serviceName, IReadOnlyList<ServiceInstance> cached, ServiceInstance[] answer)
    {
        var listed = new HashSet<(string, int)>();
        foreach (var instance in answer)
        {
            listed.Add((instance.Host, instance.Port));
        }

        var kept = new List<ServiceInstance>();
        foreach (var instance in cached)
        {
            if (!listed.Contains((instance.Host, instance.Port)))
            {
                kept.Add(instance);
            }
        }

        if (kept.Count == 0)
        {
            return answer;
        }

        Log.KeptDuringRecovery(_logger, serviceName, kept.Count);
        ServiceInstance[] merged = [.. answer, .. kept];
        Array.Sort(merged, static (a, b) =>
        {
            var byHost = string.CompareOrdinal(a.Host, b.Host);
            return byHost != 0 ? byHost : a.Port.CompareTo(b.Port);
        });
        return merged;
    }

    internal static ServiceInstance[] Map(string serviceName, IReadOnlyList<NacosHost> hosts)
    {
        var instances = new ServiceInstance[hosts.Count];
        for (var i = 0; i < hosts.Count; i++)
        {
            var host = hosts[i];
            var secure = host.Metadata.TryGetValue("secure", out var value) && string.Equals(value, "true", StringComparison.OrdinalIgnoreCase);
            instances[i] = new ServiceInstance
            {
                ServiceName = serviceName,
                Host = host.Ip,
                Port = host.Port,
                Scheme = secure ? "https" : "http",
                Weight = host.Weight,
                Healthy = host.Healthy,
                Enabled = host.Enabled,
                InstanceId = host.InstanceId,
                Metadata = host.Metadata,
            };
        }

        Array.Sort(instances, static (a, b) =>
        {
            var byHost = string.CompareOrdinal(a.Host, b.Host);
            return byHost != 0 ? byHost : a.Port.CompareTo(b.Port);
        });
        return instances;
    }

    private static string Signature(ServiceInstance[] instances)
    {
        var builder = new StringBuilder();
        foreach (var instance in instances)
        {
            builder.Append(instance.InstanceId).Append('|').Append(instance.Host).Append('|').Append(instance.Port)
                .Append('|').Append(instance.Weight.ToString("R", CultureInfo.InvariantCulture))
                .Append('|').Append(instance.Healthy).Append('|').Append(instance.Enabled).Append('|').Append(instance.Scheme);
            var keys = instance.Metadata.Keys.ToArray();
            Array.Sort(keys, StringComparer.Ordinal);
            foreach (var key in keys)
            {
                builder.Append('|').Append(key).Append('=').Append(instance.Metadata[key]);
            }

            builder.Append('\n');
        }

        return builder.ToString();
    }

    private sealed record ServiceEntryState(IReadOnlyList<ServiceInstance> Instances, string Signature, bool Known, string? Body)
    {
        public static readonly ServiceEntryState Unknown = new([], string.Empty, false, null);
    }

    private sealed class ServiceEntry
    {
        private readonly Lazy<Task> _loaded;
        private volatile ServiceEntryState _state = ServiceEntryState.Unknown;

        public ServiceEntry(string name, NacosServiceInstanceProvider owner)
        {
            Name = name;
            _loaded = new Lazy<Task>(() => Task.Run(() => owner.LoadFirstAsync(this)), LazyThreadSafetyMode.ExecutionAndPublication);
        }

        public string Name { get; }

        public Task Loaded => _loaded.Value;

        public ServiceEntryState State
        {
            get => _state;
            set => _state = value;
        }

        public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(10);

        /// <summary><see cref="NacosHttpClient.OutageCount"/> when this service last got an answer.</summary>
        public long OutagesSeen { get; set; }

        /// <summary>The last refresh could not reach Nacos.</summary>
        public bool Unreachable { get; set; }

        /// <summary>Until this timestamp answers are merged into the cached list (see <see cref="NacosOptions.RecoveryGrace"/>).</summary>
        public long RecoveryUntil { get; set; }
    }
}
