using System.Globalization;
using System.Text.Json;

namespace GrayRelease.Nacos.Emulator.Http;

/// <summary>Parses parameters the way the Java server does, failing with a 400 that names the parameter.</summary>
internal static class Parameters
{
    public static string Required(RequestParameters parameters, string name, bool v2) =>
        parameters[name] is { Length: > 0 } value ? value : throw NacosRequestException.Missing(name, v2);

    public static int Port(RequestParameters parameters, bool v2)
    {
        var text = Required(parameters, "port", v2);
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var port) && port is >= 0 and <= 65535
            ? port
            : throw NacosRequestException.Invalid($"Param 'port' is invalid: {text}");
    }

    public static int OptionalInt(RequestParameters parameters, string name, int fallback)
    {
        var text = parameters[name];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw NacosRequestException.Invalid($"Param '{name}' is invalid: {text}");
    }

    public static double Weight(RequestParameters parameters)
    {
        var text = parameters["weight"];
        if (string.IsNullOrWhiteSpace(text))
        {
            return 1;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var weight) || !double.IsFinite(weight))
        {
            throw NacosRequestException.Invalid($"Param 'weight' is invalid: {text}");
        }

        return CheckWeight(weight);
    }

    /// <summary>
    /// v1: naming/.../pojo/instance/HttpRequestInstanceBuilder.java setWeight (text); v2: InstanceControllerV2.java
    /// checkWeight, <c>{21001, "weight error", message}</c>.
    /// </summary>
    public static double CheckWeight(double weight) => weight is >= 0 and <= 10000
        ? weight
        : throw new NacosRequestException(400, 21001, "instance format invalid: The weights range from 0.0 to 10000.0") { Abstract = "weight error" };

    /// <summary>Java's <c>ConvertUtils.toBoolean</c>: true/yes/on/y/t/1, anything else false.</summary>
    public static bool Bool(string? text, bool fallback)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        return text.Trim().ToUpperInvariant() switch
        {
            "TRUE" or "YES" or "ON" or "Y" or "T" or "1" => true,
            _ => false,
        };
    }

    /// <summary>
    /// The register call's <c>enabled</c> (real clients also send <c>enable</c>): <c>enabled</c> wins when present.
    /// </summary>
    public static bool Enabled(RequestParameters parameters) =>
        parameters["enabled"] is { Length: > 0 } enabled ? Bool(enabled, true) : Bool(parameters["enable"], true);

    /// <summary>
    /// Metadata as a JSON object of strings (non-string values kept as their JSON text), or the legacy
    /// <c>k1=v1,k2=v2</c> form, like <c>UtilsAndCommons.parseMetadata</c>.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Metadata(string? text)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(text))
        {
            return result;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw NacosRequestException.Invalid($"Param 'metadata' is not a JSON object: {text}");
            }

            foreach (var property in document.RootElement.EnumerateObject())
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
        catch (JsonException)
        {
            foreach (var pair in text.Split(','))
            {
                var separator = pair.IndexOf('=', StringComparison.Ordinal);
                if (separator <= 0)
                {
                    throw NacosRequestException.Invalid($"Param 'metadata' is invalid: {text}");
                }

                result[pair[..separator]] = pair[(separator + 1)..];
            }

            return result;
        }
    }
}
