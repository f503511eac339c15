using System.Net;
using GrayRelease.Yarp.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using static GrayRelease.Yarp.Tests.Rules.RuleTestContext;

namespace GrayRelease.Yarp.Tests.Rules;

public sealed class GeoIPCityResolverTests : IDisposable
{
    private readonly List<string> _files = [];

    [Theory]
    [InlineData("198.51.100.7", "Hangzhou")]
    [InlineData("::ffff:198.51.100.7", "Hangzhou")]
    [InlineData("203.0.113.200", "Beijing")]
    [InlineData("192.0.2.1", null)]
    [InlineData("2001:db8::1", null)]
    public void Cities_are_read_from_an_IPv4_database(string address, string? city)
    {
        var (resolver, _) = Create(Database(4));

        Assert.Equal(city, resolver.ResolveCity(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("2001:db8:1::9", "Shanghai")]
    [InlineData("198.51.100.7", "Hangzhou")]
    [InlineData("2001:db8:2::9", null)]
    public void Cities_are_read_from_an_IPv6_database(string address, string? city)
    {
        var (resolver, _) = Create(Database(6, ("2001:db8:1::/48", "Shanghai", "上海")));

        Assert.Equal(city, resolver.ResolveCity(IPAddress.Parse(address)));
    }

    [Fact]
    public void Names_come_in_the_configured_language()
    {
        var (resolver, _) = Create(Database(4), ("GrayRelease:Gateway:GeoIPLanguage", "zh-CN"));

        Assert.Equal("杭州", resolver.ResolveCity(IPAddress.Parse("198.51.100.7")));
    }

    [Fact]
    public void Configured_table_wins_over_the_database()
    {
        var (resolver, _) = Create(Database(4), ("GrayRelease:Gateway:Cities:Office:0", "198.51.100.0/28"));

        Assert.Equal("Office", resolver.ResolveCity(IPAddress.Parse("198.51.100.7")));
        Assert.Equal("Hangzhou", resolver.ResolveCity(IPAddress.Parse("198.51.100.77")));
    }

    [Fact]
    public void Database_can_be_added_and_replaced_while_running()
    {
        var (resolver, configuration) = Create(null);
        Assert.Null(resolver.ResolveCity(IPAddress.Parse("198.51.100.7")));

        configuration["GrayRelease:Gateway:GeoIPDatabase"] = Database(4);
        configuration.Reload();
        Assert.Equal("Hangzhou", resolver.ResolveCity(IPAddress.Parse("198.51.100.7")));

        configuration["GrayRelease:Gateway:GeoIPDatabase"] = Database(4, ("198.51.100.0/24", "Suzhou", "苏州"));
        configuration.Reload();
        Assert.Equal("Suzhou", resolver.ResolveCity(IPAddress.Parse("198.51.100.7")));
    }

    [Fact]
    public void City_rule_uses_the_database()
    {
        var (_, provider) = CreateServices(Database(4), ("GrayRelease:Gateway:Enabled", "true"), ("GrayRelease:Gateway:CityList:0", "hangzhou"));
        var engine = provider.GetRequiredService<GrayDecisionEngine>();

        Assert.Equal("city", engine.Decide(Request("198.51.100.7")).Rule);
        Assert.Equal(GrayStatus.Prod, engine.Decide(Request("203.0.113.7")).Status);
    }

    [Fact]
    public void Missing_database_file_is_rejected_naming_the_key()
    {
        var result = new GrayGatewayOptionsValidator().Validate(null, new GrayGatewayOptions { GeoIPDatabase = "/nonexistent/GeoLite2-City.mmdb" });

        Assert.Contains("GrayRelease:Gateway:GeoIPDatabase '/nonexistent/GeoLite2-City.mmdb' does not exist.", result.Failures!);
    }

    public void Dispose()
    {
        foreach (var file in _files)
        {
            File.Delete(file);
        }
    }

    private string Database(int ipVersion, params (string Cidr, string En, string Zh)[] extra)
    {
        var writer = new MaxMindDbWriter(ipVersion)
            .Add("198.51.100.0/24", ("en", "Hangzhou"), ("zh-CN", "杭州"))
            .Add("203.0.113.0/24", ("en", "Beijing"), ("zh-CN", "北京"));
        if (extra.Length > 0)
        {
            writer = new MaxMindDbWriter(ipVersion);
            foreach (var (cidr, en, zh) in extra)
            {
                writer.Add(cidr, ("en", en), ("zh-CN", zh));
            }

            if (ipVersion == 6)
            {
                writer.Add("198.51.100.0/24", ("en", "Hangzhou"), ("zh-CN", "杭州"));
            }
        }

        var path = Path.Combine(Path.GetTempPath(), $"grayrelease-{Guid.NewGuid():N}.mmdb");
        writer.WriteTo(path);
        _files.Add(path);
        return path;
    }

    private static (ICityResolver Resolver, IConfigurationRoot Configuration) Create(string? database, params (string Key, string Value)[] settings)
    {
        var (configuration, provider) = CreateServices(database, settings);
        return (provider.GetRequiredService<ICityResolver>(), configuration);
    }

    private static (IConfigurationRoot Configuration, ServiceProvider Provider) CreateServices(string? database, params (string Key, string Value)[] settings)
    {
        var values = new Dictionary<string, string?> { ["GrayRelease:Gateway:GeoIPDatabase"] = database };
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging();
        services.AddReverseProxy().AddGrayRelease();
        return (configuration, services.BuildServiceProvider());
    }
}
