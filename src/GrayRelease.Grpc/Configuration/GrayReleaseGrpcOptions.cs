namespace GrayRelease.Grpc;

/// <summary>
/// Settings of the gRPC client integration, bound from <c>GrayRelease:Grpc</c> and validated at start-up: which registry
/// metadata entry names an instance's gRPC port.
/// </summary>
public sealed class GrayReleaseGrpcOptions
{
    /// <summary>The configuration section, under <c>GrayRelease</c>.</summary>
    public const string SectionName = "GrayRelease:Grpc";

    /// <summary>
    /// The instance metadata key that holds the gRPC port, when an instance serves gRPC on another port than the one it
    /// registered (one registration, two ports). Default <c>gRPC_port</c>, the key of Spring's gRPC starter
    /// (grpc-spring, <c>GrpcUtils.CLOUD_DISCOVERY_METADATA_PORT</c>). An instance without it is dialled on its port.
    /// </summary>
    public string PortMetadataKey { get; set; } = DefaultPortMetadataKey;

    /// <summary>The default of <see cref="PortMetadataKey"/>.</summary>
    public const string DefaultPortMetadataKey = "gRPC_port";
}
