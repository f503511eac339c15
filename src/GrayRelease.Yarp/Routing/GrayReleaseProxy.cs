namespace GrayRelease.Yarp;

/// <summary>Names used in YARP configuration to opt clusters and destinations into gray routing.</summary>
public static class GrayReleaseProxy
{
    /// <summary>
    /// Metadata key naming a registry service. On a destination: replace it with the service's instances. On a cluster:
    /// the service whose <c>GrayRelease:Services</c> versions apply (default: the destinations' service, else the cluster id).
    /// </summary>
    public const string ServiceMetadataKey = "GrayRelease.Service";

    /// <summary>
    /// Destination metadata key holding a relative weight (invariant number, default 1; 0 or less: never picked). Set from
    /// the registry instance's weight; honoured by <see cref="RoundRobinPolicy"/>.
    /// </summary>
    public const string WeightMetadataKey = "GrayRelease.Weight";

    /// <summary>Name of the round-robin load-balancing policy over the wanted version's destinations (<c>LoadBalancingPolicy</c> of a cluster).</summary>
    public const string RoundRobinPolicy = "GrayRoundRobin";
}
