using GrayRelease.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrayRelease.Discovery;

/// <summary>
/// Instances listed in configuration under <c>GrayRelease:Instances:&lt;service&gt;</c>, for tests and for runs
/// without a registry. Follows configuration reloads and reports the services whose list changed.
/// </summary>
internal sealed class ConfigurationServiceInstanceProvider : IServiceInstanceProvider, IDisposable
{
    private readonly IDisposable? _subscription;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private Dictionary<string, IReadOnlyList<ServiceInstance>> _services;

    // Configuration keys are case-insensitive, so "user-app" answers a lookup of "User-App" too; the contract is to
    // report later changes under the name that was asked, so remember each spelling asked for.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _askedNames = new(StringComparer.Ordinal);
    private int _spellingCapLogged;

    /// <summary>
    /// At most this many spellings are remembered: a host name's spelling comes from the URL a caller wrote, and a name of
    /// n letters has 2^n of them. A spelling beyond the cap is answered as unknown rather than served without changes.
    /// </summary>
    internal const int MaxAskedSpellings = 1000;

    public ConfigurationServiceInstanceProvider(IOptionsMonitor<GrayReleaseOptions> options, ILogger<ConfigurationServiceInstanceProvider> logger)
    {
        _logger = logger;
        _services = Snapshot(options.CurrentValue);
        _subscription = options.OnChange(OnOptionsChanged);
    }

    public event EventHandler<ServiceInstancesChangedEventArgs>? InstancesChanged;

    public ValueTask<IReadOnlyList<ServiceInstance>?> GetInstancesAsync(string serviceName, CancellationToken cancellationToken = default)
    {
        var services = Volatile.Read(ref _services);
        if (!services.TryGetValue(serviceName, out var instances))
        {
            // Not remembered: any host name reaches here, and an unknown one is asked again later anyway.
            return new ValueTask<IReadOnlyList<ServiceInstance>?>((IReadOnlyList<ServiceInstance>?)null);
        }

        if (!_askedNames.ContainsKey(serviceName))
        {
            if (_askedNames.Count >= MaxAskedSpellings)
            {
                if (Interlocked.Exchange(ref _spellingCapLogged, 1) == 0)
                {
                    Log.ConfiguredSpellingCapReached(_logger, MaxAskedSpellings, serviceName);
                }

                return new ValueTask<IReadOnlyList<ServiceInstance>?>((IReadOnlyList<ServiceInstance>?)null);
            }

            _askedNames.TryAdd(serviceName, 0);
        }

        return new ValueTask<IReadOnlyList<ServiceInstance>?>(instances);
    }

    public void Dispose() => _subscription?.Dispose();

    internal static Dictionary<string, IReadOnlyList<ServiceInstance>> Snapshot(GrayReleaseOptions options)
    {
        var services = new Dictionary<string, IReadOnlyList<ServiceInstance>>(StringComparer.OrdinalIgnoreCase);
        foreach (var (serviceName, configured) in options.Instances)
        {
            var instances = new List<ServiceInstance>(configured.Count);
            foreach (var entry in configured)
            {
                if (!Uri.TryCreate(entry.Address, UriKind.Absolute, out var address))
                {
                    continue; // rejected by validation at start-up; a bad reload keeps the rest usable
                }

                var metadata = new Dictionary<string, string>(entry.Metadata, StringComparer.Ordinal);
                if (!string.IsNullOrEmpty(entry.Version))
                {
                    metadata[options.MetadataKey] = entry.Version;
                }

                instances.Add(new ServiceInstance
                {
                    ServiceName = serviceName,
                    Scheme = address.Scheme,
                    Host = address.Host.Trim('[', ']'),
                    Port = address.Port,
                    Weight = entry.Weight,
                    Healthy = entry.Healthy,
                    Enabled = entry.Enabled,
                    Metadata = metadata,
                    InstanceId = $"{address.Host}#{address.Port}",
                });
            }

            services[serviceName] = instances;
        }

        return services;
    }

    private void OnOptionsChanged(GrayReleaseOptions options, string? name)
    {
        List<ServiceInstancesChangedEventArgs> changes = [];
        lock (_gate)
        {
            var previous = _services;
            var next = Snapshot(options);
            foreach (var (serviceName, instances) in next)
            {
                if (!previous.TryGetValue(serviceName, out var old) || !SameInstances(old, instances))
                {
                    changes.Add(new ServiceInstancesChangedEventArgs(serviceName, instances));
                }
            }

            foreach (var serviceName in previous.Keys)
            {
                if (!next.ContainsKey(serviceName))
                {
                    changes.Add(new ServiceInstancesChangedEventArgs(serviceName, []));
                }
            }

            Volatile.Write(ref _services, next);
        }

        foreach (var change in changes)
        {
            Log.ConfiguredInstancesChanged(_logger, change.ServiceName, change.Instances.Count);
            InstancesChanged?.Invoke(this, change);
            foreach (var (asked, _) in _askedNames)
            {
                if (!string.Equals(asked, change.ServiceName, StringComparison.Ordinal) && string.Equals(asked, change.ServiceName, StringComparison.OrdinalIgnoreCase))
                {
                    InstancesChanged?.Invoke(this, new ServiceInstancesChangedEventArgs(asked, change.Instances));
                }
            }
        }
    }

    private static bool SameInstances(IReadOnlyList<ServiceInstance> left, IReadOnlyList<ServiceInstance> right)
    {
        if (left.Count != right.Count)
        {
            return false;
        }

        for (var i = 0; i < left.Count; i++)
        {
            var a = left[i];
            var b = right[i];
            if (a.Address != b.Address || a.Weight != b.Weight || a.Healthy != b.Healthy || a.Enabled != b.Enabled ||
                a.Metadata.Count != b.Metadata.Count || a.Metadata.Any(pair => b.GetMetadata(pair.Key) != pair.Value))
            {
                return false;
            }
        }

        return true;
    }
}
