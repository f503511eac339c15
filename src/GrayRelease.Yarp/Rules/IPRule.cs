namespace GrayRelease.Yarp;

/// <summary>Gray when the client address is in <see cref="GrayGatewayOptions.IpList"/>.</summary>
internal sealed class IPRule(IPRangeSet ranges) : IGrayRule
{
    public string Name => "ip";

    public bool IsGray(in GrayRuleContext context) => context.ClientAddress is { } address && ranges.Contains(address);
}
