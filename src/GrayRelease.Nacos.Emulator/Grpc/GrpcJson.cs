using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using GrayRelease.Nacos.Emulator.Grpc.Protocol;
using GrayRelease.Nacos.Emulator.Http;

namespace GrayRelease.Nacos.Emulator.Grpc;

/// <summary>
/// The envelope: <c>Metadata.type</c> names the Java class, <c>body</c> is a <c>google.protobuf.Any</c> with an empty
/// type_url and UTF-8 JSON as value (common/remote/client/grpc/GrpcUtils.java). JSON as Jackson writes it: camelCase,
/// null fields left out (common/utils/JacksonUtils.java).
/// </summary>
internal static class GrpcJson
{
    public const int ResultSuccess = 200;
    public const int ResultFail = 500;

    public static Payload ToPayload(string type, byte[] json) => new()
    {
        Metadata = new Metadata { Type = type },
        Body = new Any { Value = ByteString.CopyFrom(json) },
    };

    /// <summary>A response body: <c>resultCode, errorCode, message?, requestId?, fields…, success</c> (api/remote/response/Response.java).</summary>
    public static byte[] Response(int resultCode, int errorCode, string? message, string? requestId, Action<Utf8JsonWriter>? fields = null) =>
        JsonOutput.ToBytes(writer =>
        {
            writer.WriteStartObject();
            writer.WriteNumber("resultCode", resultCode);
            writer.WriteNumber("errorCode", errorCode);
            if (message is not null)
            {
                writer.WriteString("message", message);
            }

            if (requestId is not null)
            {
                writer.WriteString("requestId", requestId);
            }

            fields?.Invoke(writer);
            writer.WriteBoolean("success", resultCode == ResultSuccess);
            writer.WriteEndObject();
        });

    public static byte[] Success(Action<Utf8JsonWriter>? fields = null) => Response(ResultSuccess, 0, null, null, fields);

    /// <summary>ErrorResponse: resultCode = errorCode for handler exceptions, 500 for the acceptor's own refusals.</summary>
    public static Payload Error(int resultCode, int errorCode, string? message) =>
        ToPayload("ErrorResponse", Response(resultCode, errorCode, message, null));

    /// <summary>A server request on the stream: <c>headers</c> empty, a decimal requestId, the module last.</summary>
    public static byte[] ServerRequest(string requestId, string module, Action<Utf8JsonWriter>? fields) =>
        JsonOutput.ToBytes(writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartObject("headers");
            writer.WriteEndObject();
            if (requestId.Length > 0)
            {
                writer.WriteString("requestId", requestId);
            }

            fields?.Invoke(writer);
            writer.WriteString("module", module);
            writer.WriteEndObject();
        });

    public static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
                _ => null,
            }
            : null;

    public static bool Bool(JsonElement element, string name, bool fallback) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.String => bool.TryParse(value.GetString(), out var parsed) ? parsed : fallback,
                _ => fallback,
            }
            : fallback;

    public static int Int(JsonElement element, string name, int fallback) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number)
            ? number
            : element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out value) && value.ValueKind == JsonValueKind.String
              && int.TryParse(value.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out number)
                ? number
                : fallback;

    public static double Double(JsonElement element, string name, double fallback) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && double.IsFinite(number)
            ? number
            : fallback;

    public static JsonElement Object(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object
            ? value
            : default;

    /// <summary>A JSON object of strings (other values as their JSON text); null when absent or not an object.</summary>
    public static Dictionary<string, string>? StringMap(JsonElement element, string name)
    {
        var map = Object(element, name);
        if (map.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in map.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            result[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
        }

        return result;
    }
}
