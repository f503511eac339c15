using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace GrayRelease.Nacos.Registration;

/// <summary>
/// The Kestrel endpoint marked as the gRPC one (<c>PublishAsNacosGrpcPort()</c>). Kestrel writes the bound endpoint
/// back into its <see cref="ListenOptions"/> when it binds (KestrelServerImpl: options.EndPoint = await BindAsync(...)),
/// so a port 0 is known by the time the registration runs (after the server has started).
/// </summary>
internal sealed class NacosGrpcEndpoint
{
    private ListenOptions? _listen;

    public void Set(ListenOptions listen) => Volatile.Write(ref _listen, listen);

    /// <summary>The bound port, or null when no endpoint is marked or it is not an IP endpoint.</summary>
    public int? BoundPort => Volatile.Read(ref _listen)?.IPEndPoint is { Port: > 0 } bound ? bound.Port : null;
}
