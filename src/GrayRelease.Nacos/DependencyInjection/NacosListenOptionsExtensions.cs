using GrayRelease.Nacos.Registration;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Marks a Kestrel endpoint for the Nacos registration of <c>AddGrayRelease().AddNacos()</c>.</summary>
public static class NacosListenOptionsExtensions
{
    /// <summary>
    /// Makes this endpoint the application's gRPC endpoint: its bound port (a port 0 included) is published in the
    /// instance metadata (<c>nacos:GrpcPortMetadataKey</c>, <c>gRPC_port</c>), and another bound endpoint is registered
    /// as the instance's port, so one registration serves REST and gRPC. <c>nacos:InstanceGrpcPort</c>, when set, wins.
    /// </summary>
    public static ListenOptions PublishAsNacosGrpcPort(this ListenOptions listenOptions)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        var endpoint = listenOptions.ApplicationServices.GetService<NacosGrpcEndpoint>()
            ?? throw new InvalidOperationException(
                $"PublishAsNacosGrpcPort() on the endpoint {listenOptions} needs the Nacos registration: call builder.AddGrayRelease().AddNacos() as well.");
        endpoint.Set(listenOptions);
        return listenOptions;
    }
}
