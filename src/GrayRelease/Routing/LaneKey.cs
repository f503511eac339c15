namespace GrayRelease.Routing;

/// <summary>
/// A lane name interned by <see cref="LaneRegistry"/>: a dense index, so a pick finds the lane's route by an array read
/// instead of hashing the name, and the root context frames of the lane, so entering it allocates nothing.
/// </summary>
internal sealed class LaneKey
{
    private readonly GrayFrame[] _roots;

    public LaneKey(string name, int index)
    {
        Name = name;
        Index = index;
        _roots = [new(null, null, this), new(GrayStatus.All, null, this), new(GrayStatus.Prod, null, this), new(GrayStatus.Gray, null, this)];
    }

    public string Name { get; }

    public int Index { get; }

    /// <summary>The frame of a scope begun in this lane with nothing current, shared by every such scope.</summary>
    public GrayFrame Root(GrayStatus? status) => status switch
    {
        null => _roots[0],
        { } known when (uint)known <= (uint)GrayStatus.Gray => _roots[(int)known + 1],
        _ => new GrayFrame(status, null, this),
    };

    public override string ToString() => Name;
}
