namespace GrayRelease;

/// <summary>Which versions of a service a request may reach.</summary>
public enum GrayStatus
{
    /// <summary>Any version (wire value <c>ALL</c>).</summary>
    All,

    /// <summary>Only the production version (wire value <c>PROD</c>).</summary>
    Prod,

    /// <summary>Only the gray version (wire value <c>GRAY</c>).</summary>
    Gray,
}
