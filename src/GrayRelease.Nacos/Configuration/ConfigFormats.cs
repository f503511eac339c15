namespace GrayRelease.Nacos.Configuration;

/// <summary>Picks the parser of a config: its explicit type, else its dataId's extension, else by looking at the content.</summary>
internal static class ConfigFormats
{
    public static IConfigContentParser? Find(string type) => type.Trim().ToUpperInvariant() switch
    {
        "JSON" => JsonConfigContentParser.Instance,
        "YAML" or "YML" => YamlConfigContentParser.Instance,
        "PROPERTIES" => PropertiesConfigContentParser.Instance,
        _ => null,
    };

    public static IConfigContentParser Select(string dataId, string? type, string content)
    {
        if (!string.IsNullOrWhiteSpace(type) && Find(type) is { } explicitParser)
        {
            return explicitParser;
        }

        var extension = Path.GetExtension(dataId);
        if (extension.Length > 1 && Find(extension[1..]) is { } byExtension)
        {
            return byExtension;
        }

        var trimmed = content.AsSpan().TrimStart();
        return trimmed.Length > 0 && trimmed[0] is '{' or '[' ? JsonConfigContentParser.Instance : YamlConfigContentParser.Instance;
    }
}
