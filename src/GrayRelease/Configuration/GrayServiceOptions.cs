namespace GrayRelease;

/// <summary>Per-service overrides of the production and gray versions.</summary>
public sealed class GrayServiceOptions
{
    /// <summary>Production version of this service; falls back to <see cref="GrayReleaseOptions.ProdVersion"/>.</summary>
    public string? ProdVersion { get; set; }

    /// <summary>Gray version of this service; falls back to <see cref="GrayReleaseOptions.GrayVersion"/>.</summary>
    public string? GrayVersion { get; set; }
}
