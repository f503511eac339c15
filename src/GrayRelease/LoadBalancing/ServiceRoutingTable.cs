using System.Collections.Frozen;
using GrayRelease.Discovery;

namespace GrayRelease.LoadBalancing;

/// <summary>
/// Immutable routing view of one service: routable instances grouped by version, built when the instance list
/// changes and swapped in atomically, so that a pick needs no filtering.
/// </summary>
internal sealed class ServiceRoutingTable
{
    private readonly FrozenDictionary<string, InstanceGroup> _byVersion;

    private ServiceRoutingTable(string serviceName, string metadataKey, int instanceCount, InstanceGroup all, FrozenDictionary<string, InstanceGroup> byVersion)
    {
        ServiceName = serviceName;
        MetadataKey = metadataKey;
        InstanceCount = instanceCount;
        All = all;
        _byVersion = byVersion;
        AvailableVersions = [.. byVersion.Keys.Where(v => v.Length > 0).Order(StringComparer.Ordinal)];
    }

    public string ServiceName { get; }

    public string MetadataKey { get; }

    /// <summary>Every instance the provider reported, routable or not.</summary>
    public int InstanceCount { get; }

    /// <summary>Every routable instance, whatever its version.</summary>
    public InstanceGroup All { get; }

    /// <summary>Versions that have at least one routable instance, sorted.</summary>
    public IReadOnlyCollection<string> AvailableVersions { get; }

    public InstanceGroup GetGroup(string version) =>
        _byVersion.TryGetValue(version, out var group) ? group : InstanceGroup.Empty;

    /// <summary>Builds a table, carrying the passive-health state of instances that were already known.</summary>
    public static ServiceRoutingTable Build(string serviceName, IReadOnlyList<ServiceInstance> instances, string metadataKey, ServiceRoutingTable? previous)
    {
        Dictionary<string, RoutableInstance>? previousByAddress = null;
        if (previous is not null && previous.MetadataKey == metadataKey)
        {
            previousByAddress = new Dictionary<string, RoutableInstance>(StringComparer.OrdinalIgnoreCase);
            foreach (var known in previous.All.Instances)
            {
                previousByAddress.TryAdd(known.Instance.Address, known);
            }
        }

        var all = new List<RoutableInstance>(instances.Count);
        var byVersion = new Dictionary<string, List<RoutableInstance>>(StringComparer.Ordinal);
        foreach (var instance in instances)
        {
            if (!instance.IsRoutable)
            {
                continue;
            }

            var version = instance.GetMetadata(metadataKey) ?? string.Empty;
            var routable = new RoutableInstance(instance, version);
            if (previousByAddress is not null && previousByAddress.TryGetValue(instance.Address, out var known))
            {
                routable.QuarantineUntil(known.QuarantinedUntil);
            }

            all.Add(routable);
            if (!byVersion.TryGetValue(version, out var list))
            {
                byVersion[version] = list = [];
            }

            list.Add(routable);
        }

        var groups = byVersion.ToFrozenDictionary(pair => pair.Key, pair => new InstanceGroup([.. pair.Value]), StringComparer.Ordinal);
        return new ServiceRoutingTable(serviceName, metadataKey, instances.Count, new InstanceGroup([.. all]), groups);
    }
}
