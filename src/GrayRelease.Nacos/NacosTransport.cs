namespace GrayRelease.Nacos;

/// <summary>Which Nacos client protocol GrayRelease.Nacos speaks (<c>nacos:Transport</c>).</summary>
public enum NacosTransport
{
    /// <summary>gRPC when the server serves it (2.x / 3.x), else HTTP; the choice is logged once at start-up.</summary>
    Auto = 0,

    /// <summary>The gRPC client protocol only (Nacos 2.x / 3.x; port = HTTP port + 1000 or <c>nacos:GrpcPort</c>).</summary>
    Grpc = 1,

    /// <summary>HTTP only: the v1 Open API (1.x / 2.x / 3.0–3.1 with client API compatibility on).</summary>
    Http = 2,
}
