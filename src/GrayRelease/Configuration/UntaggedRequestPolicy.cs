namespace GrayRelease;

/// <summary>Where calls go when the current request carries no gray tag (it did not come through the gateway).</summary>
public enum UntaggedRequestPolicy
{
    /// <summary>To instances of the caller's own <see cref="GrayReleaseOptions.Version"/> (any version when it has none).</summary>
    CallerVersion,

    /// <summary>To any version.</summary>
    All,

    /// <summary>To the production version.</summary>
    Prod,
}
