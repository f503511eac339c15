using System.Collections.Frozen;

namespace GrayRelease.Yarp;

/// <summary>Gray when the client address lies in one of <see cref="GrayGatewayOptions.CityList"/>.</summary>
internal sealed class CityRule(FrozenSet<string> cities, ICityResolver resolver) : IGrayRule
{
    public string Name => "city";

    public bool IsGray(in GrayRuleContext context) =>
        context.ClientAddress is { } address && resolver.ResolveCity(address) is { } city && cities.Contains(city);
}
