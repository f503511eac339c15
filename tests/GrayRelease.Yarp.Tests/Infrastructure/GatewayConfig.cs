namespace GrayRelease.Yarp.Tests.Infrastructure;

/// <summary>Builds the flat configuration keys of a gateway: gray options plus YARP routes and clusters.</summary>
internal sealed class GatewayConfig
{
    public Dictionary<string, string?> Values { get; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["GrayRelease:ProdVersion"] = "v1",
        ["GrayRelease:GrayVersion"] = "v2",
        ["GrayRelease:Gateway:Enabled"] = "true",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    public GatewayConfig Set(string key, string? value)
    {
        Values[key] = value;
        return this;
    }

    /// <summary>A route <c>/{prefix}/**</c> to a cluster of the same name.</summary>
    public GatewayConfig Cluster(string id, string? loadBalancingPolicy = GrayReleaseProxy.RoundRobinPolicy)
    {
        Values[$"ReverseProxy:Routes:{id}:ClusterId"] = id;
        Values[$"ReverseProxy:Routes:{id}:Match:Path"] = $"/{id}/{{**rest}}";
        if (loadBalancingPolicy is not null)
        {
            Values[$"ReverseProxy:Clusters:{id}:LoadBalancingPolicy"] = loadBalancingPolicy;
        }

        return this;
    }

    public GatewayConfig Destination(string cluster, string name, Uri address, string? version)
    {
        Values[$"ReverseProxy:Clusters:{cluster}:Destinations:{name}:Address"] = address.ToString();
        if (version is not null)
        {
            Values[$"ReverseProxy:Clusters:{cluster}:Destinations:{name}:Metadata:version"] = version;
        }

        return this;
    }

    public GatewayConfig Destination(string cluster, VersionedBackend backend) =>
        Destination(cluster, $"{cluster}-{backend.Version}-{backend.Port}", backend.Address, backend.Version);

    /// <summary>A destination of <paramref name="backend"/>'s version that belongs to <paramref name="lane"/> (metadata <c>lane</c>).</summary>
    public GatewayConfig Destination(string cluster, VersionedBackend backend, string lane)
    {
        var name = $"{cluster}-{backend.Version}-{backend.Port}";
        Destination(cluster, name, backend.Address, backend.Version);
        Values[$"ReverseProxy:Clusters:{cluster}:Destinations:{name}:Metadata:lane"] = lane;
        return this;
    }

    public GatewayConfig RegistryDestination(string cluster, string service)
    {
        Values[$"ReverseProxy:Clusters:{cluster}:Destinations:registry:Address"] = $"http://{service}";
        Values[$"ReverseProxy:Clusters:{cluster}:Destinations:registry:Metadata:{GrayReleaseProxy.ServiceMetadataKey}"] = service;
        return this;
    }
}
