using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace GrayRelease.Nacos.Configuration;

internal sealed class YamlConfigContentParser : IConfigContentParser
{
    public static readonly YamlConfigContentParser Instance = new();

    public string Name => "yaml";

    public Dictionary<string, string?> Parse(string content)
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (string.IsNullOrWhiteSpace(content))
        {
            return data;
        }

        var stream = new YamlStream();
        try
        {
            using var reader = new StringReader(content);
            stream.Load(reader);
        }
        catch (YamlException ex)
        {
            throw new FormatException("Invalid YAML: " + ex.Message, ex);
        }

        if (stream.Documents.Count == 0)
        {
            return data;
        }

        var root = stream.Documents[0].RootNode;
        if (root is not (YamlMappingNode or YamlSequenceNode))
        {
            throw new FormatException("A YAML configuration must be a mapping or a sequence at the top level.");
        }

        Visit(root, null, data);
        return data;
    }

    private static void Visit(YamlNode node, string? prefix, Dictionary<string, string?> data)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                foreach (var entry in mapping.Children)
                {
                    var name = (entry.Key as YamlScalarNode)?.Value
                        ?? throw new FormatException($"Only scalar keys are supported (at {prefix ?? "the root"}).");
                    Visit(entry.Value, prefix is null ? name : prefix + ":" + name, data);
                }

                break;
            case YamlSequenceNode sequence:
                for (var i = 0; i < sequence.Children.Count; i++)
                {
                    var key = i.ToString(CultureInfo.InvariantCulture);
                    Visit(sequence.Children[i], prefix is null ? key : prefix + ":" + key, data);
                }

                break;
            case YamlScalarNode scalar:
                data[prefix ?? string.Empty] = IsNull(scalar) ? null : scalar.Value;
                break;
            default:
                throw new FormatException($"Unsupported YAML node at {prefix ?? "the root"}.");
        }
    }

    private static bool IsNull(YamlScalarNode scalar) =>
        scalar.Style == ScalarStyle.Plain && (scalar.Value is null or "" or "~" or "null" or "Null" or "NULL");
}
