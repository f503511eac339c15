namespace GrayRelease;

/// <summary>What a request of a lane gets from a service that has no routable instance in that lane.</summary>
public enum LaneMode
{
    /// <summary>The baseline, chosen by the request's gray status; the lane header still propagates, so a later hop re-enters the lane.</summary>
    Permissive,

    /// <summary>No instance: the <see cref="NoInstancePolicy"/> answer, naming the service, the lane and what exists.</summary>
    Strict,
}
