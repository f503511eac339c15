namespace GrayRelease;

/// <summary>Settings of one lane (<c>GrayRelease:Lanes:&lt;name&gt;</c>).</summary>
public sealed class GrayLaneOptions
{
    /// <summary>Where a request of this lane goes when the called service has no instance in it (default <see cref="LaneMode.Permissive"/>).</summary>
    public LaneMode Mode { get; set; } = LaneMode.Permissive;

    /// <summary>When true, this lane's instances also serve requests that carry no lane, as baseline instances do.</summary>
    public bool ServeBaselineTraffic { get; set; }
}
