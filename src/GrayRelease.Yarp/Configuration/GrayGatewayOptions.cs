namespace GrayRelease.Yarp;

/// <summary>
/// Gray rules of the gateway, bound from <c>GrayRelease:Gateway</c> and read through <c>IOptionsMonitor</c>, so a change
/// (for example from a Nacos configuration) applies to the next request without a restart.
/// </summary>
public sealed class GrayGatewayOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "GrayRelease:Gateway";

    /// <summary>Master switch. Off: every request is ALL (any version). On: PROD unless a rule matches, then GRAY.</summary>
    public bool Enabled { get; set; }

    /// <summary>Name of the request header the header rule looks at (case-insensitive, as every HTTP header name).</summary>
    public string? HeaderName { get; set; } = "gray";

    /// <summary>Value of <see cref="HeaderName"/> that makes a request gray (exact, case-sensitive match); empty turns the header rule off.</summary>
    public string? HeaderValue { get; set; } = "gray-996";

    /// <summary>Client addresses and CIDR ranges (IPv4 or IPv6) whose requests go gray.</summary>
    public List<string> IpList { get; set; } = [];

    /// <summary>Cities whose requests go gray (case-insensitive); the city comes from the registered <see cref="ICityResolver"/>.</summary>
    public List<string> CityList { get; set; } = [];

    /// <summary>
    /// City table of <see cref="ConfigurationCityResolver"/>: city name to the addresses and CIDR ranges located there.
    /// Configuration may also map an IPv4 range to a city (<c>"10.1.0.0/16": "Hangzhou"</c>); IPv6 ranges need the
    /// city-keyed form because ':' separates configuration keys.
    /// </summary>
    public Dictionary<string, List<string>> Cities { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Path of a MaxMind DB city database (GeoLite2-City or GeoIP2-City, <c>.mmdb</c>). When set, cities not found in
    /// <see cref="Cities"/> are looked up there. None ships with the package.
    /// </summary>
    public string? GeoIPDatabase { get; set; }

    /// <summary>Language of the city names read from <see cref="GeoIPDatabase"/> (<c>en</c>, <c>zh-CN</c>, ...), matched against <see cref="CityList"/>.</summary>
    public string? GeoIPLanguage { get; set; } = "en";

    /// <summary>User ids whose requests go gray (exact, case-sensitive match).</summary>
    public List<string> UserIdList { get; set; } = [];

    /// <summary>
    /// Request header that carries the user id, e.g. <c>X-User-Id</c>. Only trustworthy when something in front of the
    /// rules (authentication, an edge proxy) sets it; <see cref="UserIdClaim"/> is preferred when both yield a value.
    /// </summary>
    public string? UserIdHeader { get; set; }

    /// <summary>Claim of the authenticated user that carries the user id, e.g. <c>sub</c>.</summary>
    public string? UserIdClaim { get; set; }

    /// <summary>Share of users (0 to 100, fractions allowed) that go gray, sticky per user id, or per client address when there is none.</summary>
    public double Percentage { get; set; }

    /// <summary>Mixed into the percentage hash; change it to pick a different set of users for the next rollout.</summary>
    public string? PercentageSalt { get; set; }

    /// <summary>
    /// Addresses and CIDR ranges of proxies in front of the gateway. Only when the connection comes from one of them is
    /// the client address taken from <c>X-Forwarded-For</c> (or <c>X-Real-IP</c>); otherwise those headers are ignored.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>
    /// Forwarding headers read for the client address behind a <see cref="TrustedProxies">trusted proxy</see>, comma
    /// separated, in order (<c>X-Forwarded-For</c>, <c>X-Real-IP</c>); the first one present decides, empty reads none.
    /// Name only headers your proxies set or append themselves: one they pass through unchanged is chosen by the client.
    /// </summary>
    public string? ClientAddressHeaders { get; set; } = ClientAddressResolver.DefaultHeaders;

    /// <summary>
    /// Lane entry rules, keyed by lane name (ordinal, the value sent downstream in the lane header). Independent of the
    /// gray decision: a request may be GRAY and in a lane. The client's own lane header is always discarded.
    /// </summary>
    public Dictionary<string, GrayGatewayLaneOptions> Lanes { get; } = new(StringComparer.Ordinal);
}
