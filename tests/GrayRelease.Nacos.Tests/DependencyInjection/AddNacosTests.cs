using GrayRelease.Discovery;
using GrayRelease.Nacos.Discovery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrayRelease.Nacos.Tests.DependencyInjection;

public class AddNacosTests
{
    private static IConfiguration Configuration() => new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["nacos:ServerAddresses:0"] = "http://127.0.0.1:1",
            ["nacos:ServiceName"] = "from-config",
            ["nacos:Weight"] = "3",
        })
        .Build();

    [Fact]
    public void Code_configuration_wins_over_the_section_and_a_second_call_binds_nothing_twice()
    {
        var services = new ServiceCollection().AddLogging();
        var gray = services.AddGrayRelease(Configuration());

        gray.AddNacos(o => o.ServiceName = "from-code").AddNacos(o => o.Weight = 4);
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<NacosOptions>>().Value;

        Assert.Equal(["http://127.0.0.1:1"], options.ServerAddresses);
        Assert.Equal("from-code", options.ServiceName);
        Assert.Equal(4, options.Weight);
        Assert.Single(services, d => d.ServiceType == typeof(IServiceInstanceProvider));
    }

    [Fact]
    public void Calling_AddGrayRelease_and_AddNacos_twice_registers_nothing_twice()
    {
        var services = new ServiceCollection().AddLogging();
        var configuration = Configuration();
        services.AddGrayRelease(configuration).AddNacos();
        var once = services.Count;

        services.AddGrayRelease(configuration).AddNacos();

        // Nothing at all: no second binding, validator, hosted service (registration, config logger) or provider.
        Assert.Equal(once, services.Count);
    }

    [Fact]
    public async Task The_nacos_provider_replaces_the_configured_instance_provider()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddGrayRelease(Configuration()).AddNacos(o => o.SnapshotPath = TestSupport.NewSnapshotPath());
        await using var provider = services.BuildServiceProvider();

        var instances = provider.GetRequiredService<IServiceInstanceProvider>();

        Assert.IsType<NacosServiceInstanceProvider>(instances);
        Assert.Same(instances, provider.GetRequiredService<NacosServiceInstanceProvider>());
    }
}
