using Yarp.ReverseProxy.Model;

namespace GrayRelease.Yarp;

/// <summary>
/// A cluster's available destinations grouped by version. Built when YARP publishes a new destination list (or the
/// metadata key changes) and then only read, so filtering a request is a dictionary lookup.
/// </summary>
internal sealed class DestinationIndex
{
    private readonly Dictionary<string, DestinationSet> _byVersion;

    public DestinationIndex(IReadOnlyList<DestinationState> source, ClusterModel cluster, string metadataKey)
    {
        Source = source;
        Cluster = cluster;
        MetadataKey = metadataKey;

        var all = new List<DestinationState>(source.Count);
        var groups = new Dictionary<string, List<DestinationState>>(StringComparer.Ordinal);
        string? serviceFromDestination = null;
        for (var i = 0; i < source.Count; i++)
        {
            var destination = source[i];
            if (DestinationSet.GetWeight(destination) <= 0)
            {
                // Weight 0 is how an operator drains a destination without removing it.
                continue;
            }

            all.Add(destination);
            var metadata = destination.Model?.Config.Metadata;
            if (metadata is null)
            {
                continue;
            }

            if (metadata.TryGetValue(metadataKey, out var version) && !string.IsNullOrEmpty(version))
            {
                if (!groups.TryGetValue(version, out var group))
                {
                    groups[version] = group = [];
                }

                group.Add(destination);
            }

            if (serviceFromDestination is null && metadata.TryGetValue(GrayReleaseProxy.ServiceMetadataKey, out var service) && !string.IsNullOrEmpty(service))
            {
                serviceFromDestination = service;
            }
        }

        All = new DestinationSet([.. all]);
        _byVersion = new Dictionary<string, DestinationSet>(groups.Count, StringComparer.Ordinal);
        foreach (var (version, group) in groups)
        {
            _byVersion[version] = new DestinationSet([.. group]);
        }

        Versions = [.. groups.Keys.Order(StringComparer.Ordinal)];
        ServiceName = cluster.Config.Metadata is { } clusterMetadata
            && clusterMetadata.TryGetValue(GrayReleaseProxy.ServiceMetadataKey, out var clusterService)
            && !string.IsNullOrEmpty(clusterService)
                ? clusterService
                : serviceFromDestination ?? cluster.Config.ClusterId;
    }

    public IReadOnlyList<DestinationState> Source { get; }

    public ClusterModel Cluster { get; }

    public string MetadataKey { get; }

    /// <summary>The service whose per-service versions apply: cluster metadata, else destination metadata, else the cluster id.</summary>
    public string ServiceName { get; }

    public DestinationSet All { get; }

    /// <summary>The distinct versions present, for error messages.</summary>
    public string[] Versions { get; }

    public DestinationSet? Get(string version) => _byVersion.GetValueOrDefault(version);

    public bool IsFor(IReadOnlyList<DestinationState> source, ClusterModel cluster, string metadataKey) =>
        ReferenceEquals(source, Source) && ReferenceEquals(cluster, Cluster) && string.Equals(metadataKey, MetadataKey, StringComparison.Ordinal);
}
