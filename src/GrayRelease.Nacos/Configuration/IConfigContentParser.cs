namespace GrayRelease.Nacos.Configuration;

/// <summary>Flattens a config's content into configuration keys (<c>A:B:C</c>, arrays as indices).</summary>
internal interface IConfigContentParser
{
    string Name { get; }

    /// <exception cref="FormatException">The content is not valid for this format.</exception>
    Dictionary<string, string?> Parse(string content);
}
