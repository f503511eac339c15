namespace GrayRelease.Yarp;

/// <summary>
/// Entry rules of one lane at the gateway (<c>GrayRelease:Gateway:Lanes:&lt;name&gt;</c>): a request that matches any of
/// them enters the lane. The same rule kinds as the gray rules; lanes are tried by <see cref="Priority"/>, the first
/// matching lane wins.
/// </summary>
public sealed class GrayGatewayLaneOptions
{
    /// <summary>Order in which lanes are tried: lower first; lanes of equal priority in ordinal order of their names.</summary>
    public int Priority { get; set; }

    /// <summary>Name of the request header the lane's header rule looks at (case-insensitive, as every HTTP header name).</summary>
    public string? HeaderName { get; set; }

    /// <summary>Value of <see cref="HeaderName"/> that puts a request in the lane (exact, case-sensitive match); empty turns the header rule off.</summary>
    public string? HeaderValue { get; set; }

    /// <summary>Client addresses and CIDR ranges (IPv4 or IPv6) whose requests enter the lane.</summary>
    public List<string> IpList { get; set; } = [];

    /// <summary>Cities whose requests enter the lane (case-insensitive), resolved by the gateway's <see cref="ICityResolver"/>.</summary>
    public List<string> CityList { get; set; } = [];

    /// <summary>User ids whose requests enter the lane (exact, case-sensitive match); the user id is read as for the gray rules.</summary>
    public List<string> UserIdList { get; set; } = [];

    /// <summary>Share of users (0 to 100, fractions allowed) that enter the lane, sticky per user id, or per client address when there is none.</summary>
    public double Percentage { get; set; }

    /// <summary>
    /// Mixed into the percentage hash; when empty the lane's name is used, so each lane (and the gray percentage) picks its
    /// own users rather than the same first buckets.
    /// </summary>
    public string? PercentageSalt { get; set; }
}
