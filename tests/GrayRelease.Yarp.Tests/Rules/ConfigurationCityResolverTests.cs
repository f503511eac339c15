using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GrayRelease.Yarp.Tests.Rules;

public class ConfigurationCityResolverTests
{
    [Theory]
    [InlineData("10.1.2.3", "Hangzhou")]
    [InlineData("::ffff:10.1.2.3", "Hangzhou")]
    [InlineData("10.1.77.1", "Xihu")]
    [InlineData("10.2.0.1", null)]
    [InlineData("2001:db8:abcd::1", "Shanghai")]
    [InlineData("2001:db9::1", null)]
    public void Most_specific_range_names_the_city(string address, string? city)
    {
        var (resolver, _) = Create(new()
        {
            ["GrayRelease:Gateway:Cities:Hangzhou:0"] = "10.1.0.0/16",
            ["GrayRelease:Gateway:Cities:Xihu:0"] = "10.1.77.0/24",
            ["GrayRelease:Gateway:Cities:Shanghai:0"] = "10.3.0.0/16",
            ["GrayRelease:Gateway:Cities:Shanghai:1"] = "2001:db8::/32",
        });

        Assert.Equal(city, resolver.ResolveCity(IPAddress.Parse(address)));
    }

    [Fact]
    public void Table_follows_configuration_changes()
    {
        var (resolver, configuration) = Create(new() { ["GrayRelease:Gateway:Cities:Hangzhou:0"] = "10.1.0.0/16" });
        Assert.Equal("Hangzhou", resolver.ResolveCity(IPAddress.Parse("10.1.0.9")));

        configuration["GrayRelease:Gateway:Cities:Hangzhou:0"] = "10.7.0.0/16";
        configuration.Reload();

        Assert.Null(resolver.ResolveCity(IPAddress.Parse("10.1.0.9")));
        Assert.Equal("Hangzhou", resolver.ResolveCity(IPAddress.Parse("10.7.0.9")));
    }

    [Fact]
    public void Range_keyed_entries_and_city_keyed_lists_can_be_mixed()
    {
        var (resolver, _) = Create(new()
        {
            ["GrayRelease:Gateway:Cities:10.1.0.0/16"] = "Hangzhou",
            ["GrayRelease:Gateway:Cities:10.4.0.0/16"] = "hangzhou",
            ["GrayRelease:Gateway:Cities:Hangzhou:0"] = "2001:db8:1a::/48",
            ["GrayRelease:Gateway:Cities:Beijing:0"] = "10.2.0.0/16",
        });

        Assert.Equal("Hangzhou", resolver.ResolveCity(IPAddress.Parse("10.1.9.9")), StringComparer.OrdinalIgnoreCase);
        Assert.Equal("Hangzhou", resolver.ResolveCity(IPAddress.Parse("10.4.9.9")), StringComparer.OrdinalIgnoreCase);
        Assert.Equal("Hangzhou", resolver.ResolveCity(IPAddress.Parse("2001:db8:1a::9")), StringComparer.OrdinalIgnoreCase);
        Assert.Equal("Beijing", resolver.ResolveCity(IPAddress.Parse("10.2.9.9")));
    }

    private static (ConfigurationCityResolver Resolver, IConfigurationRoot Configuration) Create(Dictionary<string, string?> values)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddReverseProxy().AddGrayRelease();
        return (new ConfigurationCityResolver(services.BuildServiceProvider().GetRequiredService<IOptionsMonitor<GrayGatewayOptions>>()), configuration);
    }
}
