using System.Text.Json.Serialization;

namespace GrayRelease.AspNetCore;

/// <summary>RFC 7807 body of the 503 answered when no instance of the wanted version exists.</summary>
internal sealed record NoInstanceProblem(
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("status")] int Status,
    [property: JsonPropertyName("detail")] string Detail,
    [property: JsonPropertyName("service")] string Service,
    [property: JsonPropertyName("wantedVersion")] string? WantedVersion,
    [property: JsonPropertyName("availableVersions")] IReadOnlyCollection<string> AvailableVersions);

[JsonSerializable(typeof(NoInstanceProblem))]
internal sealed partial class GrayReleaseJsonContext : JsonSerializerContext;
