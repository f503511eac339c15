namespace GrayRelease.Nacos.Emulator.Naming;

/// <summary>What the gRPC server needs beyond the HTTP API: instances owned by a connection.</summary>
internal sealed partial class NamingStore
{
    /// <summary>Whether the service exists (has instances).</summary>
    public bool Contains(ServiceKey key)
    {
        lock (_gate)
        {
            return _services.ContainsKey(key);
        }
    }

    /// <summary>Whether the service holds a persistent instance (the real server then calls it a persistent service).</summary>
    public bool HasPersistent(ServiceKey key)
    {
        lock (_gate)
        {
            if (_services.TryGetValue(key, out var instances))
            {
                foreach (var entry in instances.Values)
                {
                    if (!entry.Ephemeral)
                    {
                        return true;
                    }
                }
            }

            return false;
        }
    }

    /// <summary>
    /// An HTTP deregistration: removes the instance unless a gRPC connection publishes it. The real server keeps one
    /// client per ip:port (HTTP) and one per connection, and removes only from the ip:port client
    /// (core/InstanceOperatorClientImpl.java removeInstance), so a client moving from HTTP to gRPC stays listed.
    /// </summary>
    public bool DeregisterHttp(ServiceKey key, string ip, int port) => DeregisterOwned(key, ip, port, owner: null);

    /// <summary>Removes an instance only while <paramref name="owner"/> still owns it (HTTP may have taken it over).</summary>
    public bool DeregisterOwned(ServiceKey key, string ip, int port, string? owner)
    {
        lock (_gate)
        {
            if (!_services.TryGetValue(key, out var instances)
                || !instances.TryGetValue(Address(ip, port), out var entry)
                || !string.Equals(entry.Owner, owner, StringComparison.Ordinal))
            {
                return false;
            }

            instances.Remove(Address(ip, port));
            if (instances.Count == 0)
            {
                _services.Remove(key);
            }
        }

        ServiceChanged?.Invoke(key);
        return true;
    }
}
