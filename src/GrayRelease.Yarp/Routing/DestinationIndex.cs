using GrayRelease.Routing;
using Yarp.ReverseProxy.Model;

namespace GrayRelease.Yarp;

/// <summary>
/// A cluster's available destinations as a routing-core table. Built when YARP publishes a new destination list (or the
/// metadata key changes) and then only read, so filtering a request is the core's route lookup.
/// </summary>
internal sealed class DestinationIndex
{
    private static readonly Func<RouteMember<DestinationState>[], WeightedRotation<DestinationState>> NewSet = static members => new DestinationSet(members);

    public DestinationIndex(IReadOnlyList<DestinationState> source, ClusterModel cluster, string metadataKey)
    {
        Source = source;
        Cluster = cluster;
        MetadataKey = metadataKey;

        var members = new List<RouteMember<DestinationState>>(source.Count);
        string? serviceFromDestination = null;
        for (var i = 0; i < source.Count; i++)
        {
            var destination = source[i];
            var weight = DestinationSet.GetWeight(destination);
            if (weight <= 0)
            {
                // Weight 0 is how an operator drains a destination without removing it.
                continue;
            }

            var metadata = destination.Model?.Config.Metadata;
            var version = metadata is not null && metadata.TryGetValue(metadataKey, out var value) ? value : null;
            members.Add(new RouteMember<DestinationState>(destination, version ?? string.Empty, weight));

            if (serviceFromDestination is null && metadata is not null
                && metadata.TryGetValue(GrayReleaseProxy.ServiceMetadataKey, out var service) && !string.IsNullOrEmpty(service))
            {
                serviceFromDestination = service;
            }
        }

        var serviceName = cluster.Config.Metadata is { } clusterMetadata
            && clusterMetadata.TryGetValue(GrayReleaseProxy.ServiceMetadataKey, out var clusterService)
            && !string.IsNullOrEmpty(clusterService)
                ? clusterService
                : serviceFromDestination ?? cluster.Config.ClusterId;
        Routing = RoutingTable<DestinationState>.Build(serviceName, members, NewSet);
    }

    public IReadOnlyList<DestinationState> Source { get; }

    public ClusterModel Cluster { get; }

    public string MetadataKey { get; }

    /// <summary>The destinations grouped by the core; its service name (cluster metadata, else destination metadata, else the cluster id) selects the per-service versions.</summary>
    public RoutingTable<DestinationState> Routing { get; }

    public bool IsFor(IReadOnlyList<DestinationState> source, ClusterModel cluster, string metadataKey) =>
        ReferenceEquals(source, Source) && ReferenceEquals(cluster, Cluster) && string.Equals(metadataKey, MetadataKey, StringComparison.Ordinal);
}
