namespace GrayRelease;

/// <summary>An instance listed in configuration under <c>GrayRelease:Instances:&lt;service&gt;</c>.</summary>
public sealed class ConfiguredInstanceOptions
{
    /// <summary>Base address, e.g. <c>http://127.0.0.1:7201</c>.</summary>
    public string? Address { get; set; }

    /// <summary>The instance's version; shorthand for the metadata entry named by <see cref="GrayReleaseOptions.MetadataKey"/>.</summary>
    public string? Version { get; set; }

    /// <summary>Load-balancing weight (default 1; 0 = never picked).</summary>
    public double Weight { get; set; } = 1;

    /// <summary>Whether the instance is healthy (default true).</summary>
    public bool Healthy { get; set; } = true;

    /// <summary>Whether the instance takes traffic (default true).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Extra metadata.</summary>
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);
}
