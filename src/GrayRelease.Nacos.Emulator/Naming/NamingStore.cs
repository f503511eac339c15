namespace GrayRelease.Nacos.Emulator.Naming;

/// <summary>
/// The emulator's registry: services by namespace and group, instances by ip:port (like Nacos 2.x, where one
/// ip:port client publishes one instance per service). One lock; change events are raised outside it.
/// </summary>
internal sealed partial class NamingStore
{
    private readonly object _gate = new();
    private readonly Dictionary<ServiceKey, Dictionary<string, InstanceEntry>> _services = [];
    private readonly NacosEmulatorOptions _options;
    private long _sequence;

    public NamingStore(NacosEmulatorOptions options) => _options = options;

    /// <summary>Raised (outside the lock) after the instances of a service changed.</summary>
    public event Action<ServiceKey>? ServiceChanged;

    /// <summary>Raised for each instance removed because its beats stopped.</summary>
    public event Action<ServiceKey, EmulatedInstance>? InstanceExpired;

    private DateTimeOffset Now => _options.TimeProvider.GetUtcNow();

    public void Register(ServiceKey key, InstanceRegistration registration)
    {
        bool changed;
        lock (_gate)
        {
            var instances = GetOrAddService(key);
            CheckKind(key, instances, registration.Ephemeral);
            var id = Address(registration.Ip, registration.Port);
            if (!instances.TryGetValue(id, out var entry))
            {
                entry = new InstanceEntry { Ip = registration.Ip, Port = registration.Port, Sequence = ++_sequence };
                instances.Add(id, entry);
                changed = true;
            }
            else
            {
                changed = entry.Weight != registration.Weight
                    || entry.Healthy != registration.Healthy
                    || entry.Enabled != registration.Enabled
                    || entry.Ephemeral != registration.Ephemeral
                    || !string.Equals(entry.ClusterName, registration.ClusterName, StringComparison.Ordinal)
                    || !SameMetadata(entry.Metadata, registration.Metadata);
            }

            entry.Weight = registration.Weight;
            entry.Healthy = registration.Healthy;
            entry.Enabled = registration.Enabled;
            entry.Ephemeral = registration.Ephemeral;
            entry.ClusterName = registration.ClusterName;
            entry.Metadata = registration.Metadata;
            entry.Owner = registration.Owner;
            entry.LastBeat = Now;
        }

        if (changed)
        {
            ServiceChanged?.Invoke(key);
        }
    }

    public bool Deregister(ServiceKey key, string ip, int port)
    {
        lock (_gate)
        {
            if (!_services.TryGetValue(key, out var instances) || !instances.Remove(Address(ip, port)))
            {
                return false;
            }

            if (instances.Count == 0)
            {
                _services.Remove(key);
            }
        }

        ServiceChanged?.Invoke(key);
        return true;
    }

    /// <summary>Applies <paramref name="change"/> to a known instance; it returns whether anything changed.</summary>
    public bool Update(ServiceKey key, string ip, int port, Func<InstanceEntry, bool> change)
    {
        bool changed;
        lock (_gate)
        {
            if (!_services.TryGetValue(key, out var instances) || !instances.TryGetValue(Address(ip, port), out var entry))
            {
                return false;
            }

            changed = change(entry);
        }

        if (changed)
        {
            ServiceChanged?.Invoke(key);
        }

        return true;
    }

    /// <summary>
    /// A heartbeat. An unknown instance is re-created from a full beat (as the real server does) and reported
    /// as unknown (20404) otherwise. Returns null for an unknown instance without a full beat.
    /// </summary>
    public EmulatedInstance? Beat(ServiceKey key, string ip, int port, InstanceRegistration? fullBeat)
    {
        var changed = false;
        EmulatedInstance snapshot;
        lock (_gate)
        {
            if (!_services.TryGetValue(key, out var instances) || !instances.TryGetValue(Address(ip, port), out var entry))
            {
                if (fullBeat is null)
                {
                    return null;
                }

                instances = GetOrAddService(key);
                CheckKind(key, instances, ephemeral: true);
                entry = new InstanceEntry
                {
                    Ip = fullBeat.Ip,
                    Port = fullBeat.Port,
                    Sequence = ++_sequence,
                    Weight = fullBeat.Weight,
                    Ephemeral = true,
                    ClusterName = fullBeat.ClusterName,
                    Metadata = fullBeat.Metadata,
                };
                instances.Add(Address(ip, port), entry);
                changed = true;
            }

            entry.LastBeat = Now;
            if (!entry.Healthy)
            {
                entry.Healthy = true;
                changed = true;
            }

            snapshot = entry.ToSnapshot(key);
        }

        if (changed)
        {
            ServiceChanged?.Invoke(key);
        }

        return snapshot;
    }

    /// <summary>
    /// The hosts a list answer shows: enabled instances of the requested clusters (comma list, empty = all),
    /// only healthy ones when asked, in registration order.
    /// </summary>
    public List<EmulatedInstance> Select(ServiceKey key, string clusters, bool healthyOnly)
    {
        HashSet<string>? clusterSet = null;
        if (!string.IsNullOrWhiteSpace(clusters))
        {
            clusterSet = new HashSet<string>(clusters.Split(','), StringComparer.Ordinal);
        }

        var result = new List<EmulatedInstance>();
        lock (_gate)
        {
            if (!_services.TryGetValue(key, out var instances))
            {
                return result;
            }

            foreach (var entry in Ordered(instances))
            {
                if (!entry.Enabled
                    || (clusterSet is not null && !clusterSet.Contains(entry.ClusterName))
                    || (healthyOnly && !entry.Healthy))
                {
                    continue;
                }

                result.Add(entry.ToSnapshot(key));
            }
        }

        return result;
    }

    public List<EmulatedInstance> GetAll(ServiceKey key)
    {
        var result = new List<EmulatedInstance>();
        lock (_gate)
        {
            if (_services.TryGetValue(key, out var instances))
            {
                foreach (var entry in Ordered(instances))
                {
                    result.Add(entry.ToSnapshot(key));
                }
            }
        }

        return result;
    }

    public EmulatedInstance? Find(ServiceKey key, string ip, int port)
    {
        lock (_gate)
        {
            return _services.TryGetValue(key, out var instances) && instances.TryGetValue(Address(ip, port), out var entry)
                ? entry.ToSnapshot(key)
                : null;
        }
    }

    /// <summary>Marks ephemeral instances unhealthy, then removes them, as their beats age (like the real server).</summary>
    public void CheckHealth()
    {
        var now = Now;
        List<ServiceKey>? changed = null;
        List<(ServiceKey, EmulatedInstance)>? expired = null;
        lock (_gate)
        {
            List<ServiceKey>? emptied = null;
            foreach (var (key, instances) in _services)
            {
                List<string>? removed = null;
                var serviceChanged = false;
                foreach (var (id, entry) in instances)
                {
                    // A gRPC connection's instance lives with its connection, not by beats.
                    if (!entry.Ephemeral || entry.Owner is not null)
                    {
                        continue;
                    }

                    var timeouts = InstanceTimeouts.For(entry.Metadata, _options);
                    var silentMillis = (now - entry.LastBeat).TotalMilliseconds;
                    if (entry.Healthy && silentMillis > timeouts.BeatTimeoutMillis)
                    {
                        entry.Healthy = false;
                        serviceChanged = true;
                    }

                    if (silentMillis > timeouts.DeleteTimeoutMillis)
                    {
                        (removed ??= []).Add(id);
                        (expired ??= []).Add((key, entry.ToSnapshot(key)));
                        serviceChanged = true;
                    }
                }

                if (removed is not null)
                {
                    foreach (var id in removed)
                    {
                        instances.Remove(id);
                    }

                    if (instances.Count == 0)
                    {
                        (emptied ??= []).Add(key);
                    }
                }

                if (serviceChanged)
                {
                    (changed ??= []).Add(key);
                }
            }

            if (emptied is not null)
            {
                foreach (var key in emptied)
                {
                    _services.Remove(key);
                }
            }
        }

        if (expired is not null)
        {
            foreach (var (key, instance) in expired)
            {
                InstanceExpired?.Invoke(key, instance);
            }
        }

        if (changed is not null)
        {
            foreach (var key in changed)
            {
                ServiceChanged?.Invoke(key);
            }
        }
    }

    /// <summary>What a server restart does: ephemeral instances are gone, persistent ones stay.</summary>
    public void RemoveEphemeral()
    {
        lock (_gate)
        {
            List<ServiceKey>? emptied = null;
            foreach (var (key, instances) in _services)
            {
                List<string>? removed = null;
                foreach (var (id, entry) in instances)
                {
                    if (entry.Ephemeral)
                    {
                        (removed ??= []).Add(id);
                    }
                }

                if (removed is null)
                {
                    continue;
                }

                foreach (var id in removed)
                {
                    instances.Remove(id);
                }

                if (instances.Count == 0)
                {
                    (emptied ??= []).Add(key);
                }
            }

            if (emptied is not null)
            {
                foreach (var key in emptied)
                {
                    _services.Remove(key);
                }
            }
        }
    }

    /// <summary>
    /// A service is ephemeral or persistent, as its first instance made it (2.x: naming/.../v2/service/impl/
    /// EphemeralClientOperationServiceImpl.java and PersistentClientOperationServiceImpl.java registerInstance throw
    /// NacosRuntimeException(400); v1 answers its message as text, v2 as <c>{30000, "server error", message}</c>).
    /// </summary>
    private static void CheckKind(ServiceKey key, Dictionary<string, InstanceEntry> instances, bool ephemeral)
    {
        foreach (var entry in instances.Values)
        {
            if (entry.Ephemeral != ephemeral)
            {
                var message = ephemeral
                    ? $"errCode: 400, errMsg: Current service {key.GroupedName} is persistent service, can't register ephemeral instance. "
                    : $"errCode: 400, errMsg: Current service {key.GroupedName} is ephemeral service, can't register persistent instance. ";
                throw new Http.NacosRequestException(400, 30000, message) { Abstract = "server error" };
            }
        }
    }

    private Dictionary<string, InstanceEntry> GetOrAddService(ServiceKey key)
    {
        if (!_services.TryGetValue(key, out var instances))
        {
            instances = new Dictionary<string, InstanceEntry>(StringComparer.Ordinal);
            _services.Add(key, instances);
        }

        return instances;
    }

    private static List<InstanceEntry> Ordered(Dictionary<string, InstanceEntry> instances)
    {
        var list = new List<InstanceEntry>(instances.Values);
        list.Sort(static (a, b) => a.Sequence.CompareTo(b.Sequence));
        return list;
    }

    private static string Address(string ip, int port) =>
        ip + ":" + port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    internal static bool SameMetadata(IReadOnlyDictionary<string, string> left, IReadOnlyDictionary<string, string> right)
    {
        if (ReferenceEquals(left, right))
        {
            return true;
        }

        if (left.Count != right.Count)
        {
            return false;
        }

        foreach (var (key, value) in left)
        {
            if (!right.TryGetValue(key, out var other) || !string.Equals(value, other, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
