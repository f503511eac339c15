using Microsoft.Extensions.Configuration;

namespace GrayRelease.Yarp;

/// <summary>
/// Accepts the short city table form <c>"Cities": { "10.1.0.0/16": "Hangzhou" }</c> next to the list form
/// <c>"Cities": { "Hangzhou": [ "10.1.0.0/16" ] }</c>. The binder drops the short form (a string is not a list), so it is
/// read from configuration here. Only IPv4 fits it: ':' in an IPv6 key would split the configuration path.
/// </summary>
internal static class RangeKeyedCities
{
    public static void Apply(GrayGatewayOptions options, IConfiguration configuration)
    {
        foreach (var entry in configuration.GetSection(GrayGatewayOptions.SectionName + ":" + nameof(GrayGatewayOptions.Cities)).GetChildren())
        {
            if (string.IsNullOrWhiteSpace(entry.Value))
            {
                continue;
            }

            var city = entry.Value.Trim();
            if (!options.Cities.TryGetValue(city, out var ranges) || ranges is null)
            {
                options.Cities[city] = ranges = [];
            }

            ranges.Add(entry.Key);
        }
    }
}
