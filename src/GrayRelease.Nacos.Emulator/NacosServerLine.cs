namespace GrayRelease.Nacos.Emulator;

/// <summary>
/// Which Nacos server line the emulator behaves as: what it serves by default (PROTOCOL-GRPC.md §9).
/// </summary>
public enum NacosServerLine
{
    /// <summary>1.4.x: the v1 HTTP API and UDP push; no gRPC, no v2 or v3 HTTP API.</summary>
    Nacos14 = 14,

    /// <summary>2.x: gRPC, the v1 HTTP API (and v2 naming), UDP push.</summary>
    Nacos2 = 20,

    /// <summary>3.0–3.1: gRPC, the v3 client HTTP API, the deprecated v1 client API (v1/v2 admin calls answer 410), UDP push.</summary>
    Nacos31 = 31,

    /// <summary>3.2+: gRPC and the v3 client HTTP API only; v1/v2 naming and config answer 404; no UDP push.</summary>
    Nacos32 = 32,
}
