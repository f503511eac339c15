using GrayRelease.Discovery;
using GrayRelease.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GrayRelease.Tests.Configuration;

public class ConfigurationServiceInstanceProviderTests
{
    [Fact]
    public async Task Configured_instances_are_served_with_version_metadata()
    {
        var source = new ReloadableConfiguration();
        source.Replace(new()
        {
            ["GrayRelease:Instances:user-app:0:Address"] = "http://127.0.0.1:7201",
            ["GrayRelease:Instances:user-app:0:Version"] = "V1",
            ["GrayRelease:Instances:user-app:1:Address"] = "https://[::1]:7202",
            ["GrayRelease:Instances:user-app:1:Version"] = "V2",
            ["GrayRelease:Instances:user-app:1:Healthy"] = "false",
            ["GrayRelease:Instances:user-app:1:Metadata:zone"] = "b",
        });
        await using var provider = Build(source);
        var instances = (await provider.GetRequiredService<IServiceInstanceProvider>().GetInstancesAsync("user-app"))!;

        Assert.Equal(2, instances.Count);
        Assert.Equal(("http://127.0.0.1:7201", "V1", true), (instances[0].Address, instances[0].GetMetadata("version"), instances[0].Healthy));
        Assert.Equal(("https://[::1]:7202", "V2", false, "b"), (instances[1].Address, instances[1].GetMetadata("version"), instances[1].Healthy, instances[1].GetMetadata("zone")));
        Assert.Null(await provider.GetRequiredService<IServiceInstanceProvider>().GetInstancesAsync("order-app"));
    }

    [Fact]
    public async Task Reload_reports_only_the_services_that_changed()
    {
        var source = new ReloadableConfiguration();
        var initial = new Dictionary<string, string?>
        {
            ["GrayRelease:Instances:user-app:0:Address"] = "http://127.0.0.1:7201",
            ["GrayRelease:Instances:order-app:0:Address"] = "http://127.0.0.1:7101",
        };
        source.Replace(initial);
        await using var provider = Build(source);
        var instances = provider.GetRequiredService<IServiceInstanceProvider>();
        var changes = new List<ServiceInstancesChangedEventArgs>();
        instances.InstancesChanged += (_, change) => changes.Add(change);

        source.Replace(new(initial) { ["GrayRelease:Instances:user-app:1:Address"] = "http://127.0.0.1:7202" });

        var change = Assert.Single(changes);
        Assert.Equal("user-app", change.ServiceName);
        Assert.Equal(2, change.Instances.Count);
    }

    [Fact]
    public async Task Reload_reports_the_change_under_every_spelling_that_was_looked_up()
    {
        var source = new ReloadableConfiguration();
        var initial = new Dictionary<string, string?> { ["GrayRelease:Instances:UserApp:0:Address"] = "http://127.0.0.1:7201" };
        source.Replace(initial);
        await using var provider = Build(source);
        var instances = provider.GetRequiredService<IServiceInstanceProvider>();
        Assert.NotNull(await instances.GetInstancesAsync("userapp"));
        var changes = new List<string>();
        instances.InstancesChanged += (_, change) => changes.Add(change.ServiceName);

        source.Replace(new(initial) { ["GrayRelease:Instances:UserApp:1:Address"] = "http://127.0.0.1:7202" });

        Assert.Equal(["UserApp", "userapp"], changes);
    }

    [Fact]
    public async Task Removing_a_service_reports_an_empty_list()
    {
        var source = new ReloadableConfiguration();
        source.Replace(new() { ["GrayRelease:Instances:user-app:0:Address"] = "http://127.0.0.1:7201" });
        await using var provider = Build(source);
        var instances = provider.GetRequiredService<IServiceInstanceProvider>();
        var changes = new List<ServiceInstancesChangedEventArgs>();
        instances.InstancesChanged += (_, change) => changes.Add(change);

        source.Replace([]);

        Assert.Empty(Assert.Single(changes).Instances);
    }

    private static ServiceProvider Build(ReloadableConfiguration source)
    {
        var configuration = new ConfigurationBuilder().Add(source).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddGrayRelease(configuration);
        return services.BuildServiceProvider();
    }
}
