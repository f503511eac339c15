using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using static GrayRelease.Yarp.Tests.Rules.RuleTestContext;

namespace GrayRelease.Yarp.Tests.Decision;

public class LiveReloadTests
{
    [Fact]
    public void Switch_and_rules_apply_to_the_next_request_after_a_configuration_reload()
    {
        var (engine, configuration) = CreateEngine(new() { ["GrayRelease:Gateway:Enabled"] = "false" });
        Assert.Equal(GrayStatus.All, engine.Decide(Request("198.51.100.7")).Status);

        Reload(configuration, ("GrayRelease:Gateway:Enabled", "true"));
        Assert.Equal(GrayStatus.Prod, engine.Decide(Request("198.51.100.7")).Status);

        Reload(configuration, ("GrayRelease:Gateway:IpList:0", "198.51.100.0/24"));
        var decision = engine.Decide(Request("198.51.100.7"));
        Assert.Equal(GrayStatus.Gray, decision.Status);
        Assert.Equal("ip", decision.Rule);

        Reload(configuration, ("GrayRelease:Gateway:Enabled", "false"));
        Assert.Equal(GrayStatus.All, engine.Decide(Request("198.51.100.7")).Status);
    }

    [Fact]
    public void Invalid_reload_keeps_the_last_good_rules_and_a_later_valid_one_applies()
    {
        var (engine, configuration) = CreateEngine(new()
        {
            ["GrayRelease:Gateway:Enabled"] = "true",
            ["GrayRelease:Gateway:IpList:0"] = "198.51.100.7",
        });
        Assert.Equal(GrayStatus.Gray, engine.Decide(Request("198.51.100.7")).Status);

        // The options monitor refuses the bad value (the exception surfaces in whoever raised the reload).
        Record.Exception(() => Reload(configuration, ("GrayRelease:Gateway:IpList:0", "198.51.100.7/64")));
        Assert.Equal(GrayStatus.Gray, engine.Decide(Request("198.51.100.7")).Status);

        Reload(configuration, ("GrayRelease:Gateway:IpList:0", "198.51.100.8"));
        Assert.Equal(GrayStatus.Prod, engine.Decide(Request("198.51.100.7")).Status);
        Assert.Equal(GrayStatus.Gray, engine.Decide(Request("198.51.100.8")).Status);
    }

    private static void Reload(IConfigurationRoot configuration, params (string Key, string? Value)[] changes)
    {
        foreach (var (key, value) in changes)
        {
            configuration[key] = value;
        }

        configuration.Reload();
    }

    private static (GrayDecisionEngine Engine, IConfigurationRoot Configuration) CreateEngine(Dictionary<string, string?> values)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging();
        services.AddReverseProxy().AddGrayRelease();
        var provider = services.BuildServiceProvider();
        return (provider.GetRequiredService<GrayDecisionEngine>(), configuration);
    }
}
