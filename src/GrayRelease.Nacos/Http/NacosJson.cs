using System.Globalization;
using System.Text;
using System.Text.Json;
using GrayRelease.Nacos.Discovery;
using GrayRelease.Nacos.Naming;

namespace GrayRelease.Nacos.Http;

/// <summary>
/// Reads Nacos answers leniently (numbers or strings, booleans or "true"), because servers and proxies in front of
/// them differ in small ways; a body that is not the expected shape gives <see langword="null"/>, never an exception.
/// </summary>
internal static class NacosJson
{
    private static readonly IReadOnlyDictionary<string, string> NoMetadata = new Dictionary<string, string>(0);

    /// <summary>Parses an instance-list answer, or the <c>data</c> of a v2 envelope.</summary>
    public static NacosServiceInfo? ParseServiceInfo(string body) => ParseObject(body, ParseServiceInfo);

    public static NacosServiceInfo? ParseServiceInfo(JsonElement root)
    {
        var name = GetString(root, "name") ?? GetString(root, "dom");
        if (string.IsNullOrEmpty(name) || !root.TryGetProperty("hosts", out var hostsElement) || hostsElement.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var hosts = new List<NacosHost>(hostsElement.GetArrayLength());
        foreach (var host in hostsElement.EnumerateArray())
        {
            if (host.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var ip = GetString(host, "ip");
            var port = GetLong(host, "port");
            if (string.IsNullOrEmpty(ip) || port is null or <= 0 or > 65535)
            {
                return null;
            }

            hosts.Add(new NacosHost(
                GetString(host, "instanceId"),
                ip,
                (int)port.Value,
                GetDouble(host, "weight") ?? 1,
                GetBool(host, "healthy") ?? GetBool(host, "valid") ?? true,
                GetBool(host, "enabled") ?? true,
                GetBool(host, "ephemeral") ?? true,
                GetString(host, "clusterName"),
                GetString(host, "serviceName"),
                GetMetadata(host)));
        }

        return new NacosServiceInfo(
            name,
            GetString(root, "groupName"),
            GetString(root, "clusters") ?? string.Empty,
            GetLong(root, "cacheMillis") ?? 10000,
            GetLong(root, "lastRefTime") ?? 0,
            hosts);
    }

    /// <summary>Parses a heartbeat answer (v1 body, or the <c>data</c> of a v2 envelope).</summary>
    public static NacosBeatResult? ParseBeat(string body) => NacosBeatResult.Parse(body);

    public static NacosLogin? ParseLogin(string body) => ParseObject(body, static root =>
        GetString(root, "accessToken") is { Length: > 0 } token ? new NacosLogin(token, GetLong(root, "tokenTtl") ?? 18000) : null);

    /// <summary>
    /// Parses <paramref name="body"/> as a JSON object, unwrapping the <c>data</c> object of a v2 envelope
    /// (<c>{"code":0,"message":"success","data":{...}}</c>); default when it is not JSON or not an object.
    /// </summary>
    private static T? ParseObject<T>(string body, Func<JsonElement, T?> parse)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return default;
            }

            if (root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object)
            {
                root = data;
            }

            return parse(root);
        }
        catch (JsonException)
        {
            return default;
        }
    }

    /// <summary>Parses a v2 error envelope: <c>{"code":10000,"message":"...","data":null}</c>.</summary>
    public static (int Code, string? Message)? ParseV2Envelope(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            var code = root.ValueKind == JsonValueKind.Object ? GetLong(root, "code") : null;
            return code is null ? null : ((int)code.Value, GetString(root, "message"));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Builds the answer to a push: <c>{"type":"push-ack","lastRefTime":&lt;echoed&gt;,"data":""}</c>.</summary>
    public static byte[] BuildAck(string type, string lastRefTimeRaw, string data)
    {
        var builder = new StringBuilder(64 + data.Length);
        builder.Append("{\"type\":").Append(JsonSerializer.Serialize(type))
            .Append(",\"lastRefTime\":").Append(IsJsonToken(lastRefTimeRaw) ? lastRefTimeRaw : "0")
            .Append(",\"data\":").Append(JsonSerializer.Serialize(data)).Append('}');
        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    private static bool IsJsonToken(string raw)
    {
        try
        {
            using var document = JsonDocument.Parse(raw);
            return document.RootElement.ValueKind is JsonValueKind.Number or JsonValueKind.String;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static IReadOnlyDictionary<string, string> GetMetadata(JsonElement host)
    {
        if (!host.TryGetProperty("metadata", out var metadata) || metadata.ValueKind != JsonValueKind.Object)
        {
            return NoMetadata;
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in metadata.EnumerateObject())
        {
            result[property.Name] = property.Value.ValueKind switch
            {
                JsonValueKind.String => property.Value.GetString()!,
                JsonValueKind.Null => string.Empty,
                _ => property.Value.GetRawText(),
            };
        }

        return result;
    }

    private static string? GetString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
                _ => null,
            }
            : null;

    private static long? GetLong(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number)
        {
            if (value.TryGetInt64(out var number))
            {
                return number;
            }

            // A fraction or an exponent ("1e400", "5e9"): only a finite value inside the long range is a number to us;
            // anything else from the network is treated as absent rather than thrown or wrapped around.
            return value.TryGetDouble(out var real) && double.IsFinite(real) && real >= long.MinValue && real <= long.MaxValue
                ? (long)real
                : null;
        }

        return value.ValueKind == JsonValueKind.String && long.TryParse(value.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : null;
    }

    private static double? GetDouble(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number)
        {
            return value.GetDouble();
        }

        return value.ValueKind == JsonValueKind.String && double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : null;
    }

    private static bool? GetBool(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String when bool.TryParse(value.GetString(), out var parsed) => parsed,
            _ => null,
        };
    }
}
