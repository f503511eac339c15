namespace GrayRelease;

/// <summary>How the gray status and lane travel between services (<c>GrayRelease:Propagation</c>).</summary>
public enum GrayPropagation
{
    /// <summary>As the <c>gray</c> and <c>gray-lane</c> headers (gRPC metadata) only.</summary>
    Header,

    /// <summary>As members of the W3C <c>baggage</c> header only (<c>gray.status</c>, <c>gray.lane</c>).</summary>
    Baggage,

    /// <summary>Both ways out; on the way in a valid header wins over a baggage member that disagrees.</summary>
    Both,
}
