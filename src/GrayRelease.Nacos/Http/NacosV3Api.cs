using System.Net;
using System.Text.Json;

namespace GrayRelease.Nacos.Http;

/// <summary>
/// What the naming and config clients share about the v3 client HTTP API of Nacos 3.x
/// (naming/.../controllers/v3/InstanceOpenApiController.java, config/.../controller/v3/ConfigOpenApiController.java):
/// every answer is <c>Result {code, message, data}</c> (api/.../model/v2/Result.java), success is code 0.
/// </summary>
internal static class NacosV3Api
{
    /// <summary>Why a server refuses a v1 call for good: 404 (3.2+, no v1 controller) or 410 (3.0/3.1, compatibility off).</summary>
    public const string V1GoneReason = "no v1 Open API there: Nacos 3.2+, or 3.0/3.1 with nacos.core.api.compatibility.client.enabled=false";

    /// <summary>The envelope's code and a copy of its data; null when the body is not an envelope.</summary>
    public static (int Code, string? Message, JsonElement Data)? ParseEnvelope(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("code", out var code)
                || code.ValueKind != JsonValueKind.Number
                || !code.TryGetInt32(out var value))
            {
                return null;
            }

            var message = root.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            var data = root.TryGetProperty("data", out var d) ? d.Clone() : default;
            return (value, message, data);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Sends a v3 call and returns its envelope. A 404 that is no envelope means no v3 API at this address (StatusCode
    /// 404 on the exception); any other non-2xx or a body that is no envelope is a refusal of this call.
    /// </summary>
    public static async Task<(int Code, string? Message, JsonElement Data, Uri Server)> CallAsync(NacosHttpClient http, NacosRequest request, string what, CancellationToken cancellationToken)
    {
        var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var envelope = ParseEnvelope(response.Body);
        if (envelope is null || !response.IsSuccess)
        {
            if (response.StatusCode == HttpStatusCode.NotFound && envelope is null)
            {
                throw new NacosProtocolException(
                    $"Nacos server {response.Server} answered 404 to {request.Method} {request.Path}: it serves no v3 client API either (check nacos:ServerAddresses and the context path). Body: {Naming.NacosNamingClient.Truncate(response.Body)}")
                {
                    StatusCode = 404,
                };
            }

            throw new NacosProtocolException(
                $"Nacos server {response.Server} refused to {what}: {(int)response.StatusCode} {Naming.NacosNamingClient.Truncate(response.Body)}")
            {
                StatusCode = (int)response.StatusCode,
            };
        }

        return (envelope.Value.Code, envelope.Value.Message, envelope.Value.Data, response.Server);
    }

    /// <summary>A refusal inside a 200 envelope (code not 0 and not one the caller handles).</summary>
    public static NacosProtocolException Refused(Uri server, string what, int code, string? message) =>
        new($"Nacos server {server} refused to {what}: code {code} {Naming.NacosNamingClient.Truncate(message ?? string.Empty)}");
}
