using System.Text.Json.Serialization;

namespace GrayRelease.Yarp;

/// <summary>
/// RFC 7807 body of the gateway's 503 when no destination of the wanted version exists; the same fields as the services'
/// own 503 plus the cluster, the mode and (for a request in a lane) the lane, so one client-side parser serves both.
/// </summary>
internal sealed record NoDestinationProblem(
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("status")] int Status,
    [property: JsonPropertyName("detail")] string Detail,
    [property: JsonPropertyName("cluster")] string Cluster,
    [property: JsonPropertyName("service")] string Service,
    [property: JsonPropertyName("mode")] string Mode,
    [property: JsonPropertyName("wantedVersion")] string? WantedVersion,
    [property: JsonPropertyName("availableVersions")] IReadOnlyCollection<string> AvailableVersions,
    [property: JsonPropertyName("lane"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Lane = null);

[JsonSerializable(typeof(NoDestinationProblem))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;
