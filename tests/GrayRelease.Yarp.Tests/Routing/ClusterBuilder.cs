using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace GrayRelease.Yarp.Tests.Routing;

/// <summary>YARP cluster and destination state objects as the proxy would hold them, without a proxy.</summary>
internal static class ClusterBuilder
{
    private static readonly HttpMessageInvoker Client = new(new SocketsHttpHandler());

    public static ClusterState Cluster(string id, IReadOnlyDictionary<string, string>? metadata = null) =>
        new(id, new ClusterModel(new ClusterConfig { ClusterId = id, Metadata = metadata }, Client));

    public static DestinationState Destination(string id, string? version, string? service = null, string? weight = null)
    {
        var metadata = new Dictionary<string, string>();
        if (weight is not null)
        {
            metadata[GrayReleaseProxy.WeightMetadataKey] = weight;
        }

        if (version is not null)
        {
            metadata["version"] = version;
        }

        if (service is not null)
        {
            metadata[GrayReleaseProxy.ServiceMetadataKey] = service;
        }

        return new DestinationState(id, new DestinationModel(new DestinationConfig { Address = $"http://{id}.test", Metadata = metadata }));
    }
}
