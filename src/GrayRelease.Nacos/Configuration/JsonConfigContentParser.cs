using System.Globalization;
using System.Text.Json;

namespace GrayRelease.Nacos.Configuration;

internal sealed class JsonConfigContentParser : IConfigContentParser
{
    public static readonly JsonConfigContentParser Instance = new();

    public string Name => "json";

    public Dictionary<string, string?> Parse(string content)
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (string.IsNullOrWhiteSpace(content))
        {
            return data;
        }

        try
        {
            using var document = JsonDocument.Parse(content, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (document.RootElement.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array))
            {
                throw new FormatException($"A JSON configuration must be an object or an array; got {document.RootElement.ValueKind}.");
            }

            Visit(document.RootElement, null, data);
            return data;
        }
        catch (JsonException ex)
        {
            throw new FormatException("Invalid JSON: " + ex.Message, ex);
        }
    }

    private static void Visit(JsonElement element, string? prefix, Dictionary<string, string?> data)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Visit(property.Value, prefix is null ? property.Name : prefix + ":" + property.Name, data);
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    var key = index.ToString(CultureInfo.InvariantCulture);
                    Visit(item, prefix is null ? key : prefix + ":" + key, data);
                    index++;
                }

                break;
            case JsonValueKind.Null:
                data[prefix ?? string.Empty] = null;
                break;
            case JsonValueKind.String:
                data[prefix ?? string.Empty] = element.GetString();
                break;
            default:
                data[prefix ?? string.Empty] = element.GetRawText();
                break;
        }
    }
}
