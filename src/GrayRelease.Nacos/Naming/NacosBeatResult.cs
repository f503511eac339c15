using System.Globalization;
using System.Text.Json;

namespace GrayRelease.Nacos.Naming;

/// <summary>A heartbeat answer.</summary>
/// <param name="ClientBeatInterval">
/// The interval the server asks for, in ms, exactly as answered (it may be absurd: <c>1e400</c> reads as infinity);
/// null when absent or not a number. The registration loop clamps it before use.
/// </param>
/// <param name="Code">10200 known instance, 20404 unknown instance, <see cref="ServerRefused"/> for a 500 answer.</param>
/// <param name="LightBeatEnabled">The server accepts beats without the instance details from now on.</param>
/// <param name="Detail">What the server said when it refused the beat.</param>
internal readonly record struct NacosBeatResult(double? ClientBeatInterval, int Code, bool LightBeatEnabled, string? Detail = null)
{
    /// <summary>The server knows the instance.</summary>
    public const int Ok = 10200;

    /// <summary>The server does not know the instance: register again.</summary>
    public const int UnknownInstance = 20404;

    /// <summary>
    /// The server answered 500, which for a beat is a fixed per-request error, not an outage: e.g. "service not found"
    /// when it lost the service (naming/.../InstanceOperatorClientImpl.java handleBeat, 1.4's InstanceController.beat).
    /// </summary>
    public const int ServerRefused = 500;

    public bool InstanceUnknown => Code == UnknownInstance;

    /// <summary>Whether the instance must be registered again (with every field: a beat never carries <c>enabled</c>).</summary>
    public bool MustRegister => Code is UnknownInstance or ServerRefused;

    /// <summary>Parses a heartbeat answer (v1 body, or the <c>data</c> of a v2 envelope); null when it is not one.</summary>
    public static NacosBeatResult? Parse(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            if (root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object)
            {
                root = data;
            }

            if (ReadNumber(root, "code") is not { } code || code is < int.MinValue or > int.MaxValue || code != Math.Floor(code))
            {
                return null;
            }

            return new NacosBeatResult(ReadNumber(root, "clientBeatInterval"), (int)code, ReadBool(root, "lightBeatEnabled"));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// A number or a numeric string, read as a double so that no value can throw or overflow here
    /// (<c>JsonElement.GetInt64</c> / <c>GetDouble</c> throw on <c>5e9</c> / <c>1e400</c>).
    /// </summary>
    private static double? ReadNumber(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return null;
        }

        var text = value.ValueKind switch
        {
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.String => value.GetString(),
            _ => null,
        };
        return text is not null
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            && !double.IsNaN(number)
                ? number
                : null;
    }

    private static bool ReadBool(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value)
        && (value.ValueKind == JsonValueKind.True
            || (value.ValueKind == JsonValueKind.String && string.Equals(value.GetString(), "true", StringComparison.OrdinalIgnoreCase)));
}
