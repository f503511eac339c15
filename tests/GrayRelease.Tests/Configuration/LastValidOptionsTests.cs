using GrayRelease.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace GrayRelease.Tests.Configuration;

public class LastValidOptionsTests
{
    private static (ServiceProvider Provider, ReloadableConfiguration Source, FakeLogCollector Logs) Build()
    {
        var source = new ReloadableConfiguration();
        source.Replace(new() { ["GrayRelease:ProdVersion"] = "V1", ["GrayRelease:GrayVersion"] = "V2" });
        var configuration = new ConfigurationBuilder().Add(source).Build();
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddFakeLogging());
        services.AddGrayRelease(configuration);
        var provider = services.BuildServiceProvider();
        return (provider, source, provider.GetRequiredService<FakeLogCollector>());
    }

    [Fact]
    public async Task Invalid_reload_keeps_the_previous_values_and_logs_an_error_naming_the_key()
    {
        var (provider, source, logs) = Build();
        await using var _ = provider;
        var monitor = provider.GetRequiredService<IOptionsMonitor<GrayReleaseOptions>>();
        Assert.Equal("V2", monitor.CurrentValue.GrayVersion);

        source.Replace(new() { ["GrayRelease:GrayVersion"] = "V3", ["GrayRelease:HeaderName"] = "bad header" });

        Assert.Equal("V2", monitor.CurrentValue.GrayVersion);
        Assert.Equal("gray", monitor.CurrentValue.HeaderName);
        var error = Assert.Single(logs.GetSnapshot(), r => r.Level == LogLevel.Error);
        Assert.Contains("GrayRelease:HeaderName", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unconvertible_reload_keeps_the_previous_values()
    {
        var (provider, source, logs) = Build();
        await using var _ = provider;
        var monitor = provider.GetRequiredService<IOptionsMonitor<GrayReleaseOptions>>();
        Assert.Equal("V2", monitor.CurrentValue.GrayVersion);

        source.Replace(new() { ["GrayRelease:NoInstancePolicy"] = "Sometimes" });

        Assert.Equal(NoInstancePolicy.Fail, monitor.CurrentValue.NoInstancePolicy);
        Assert.Equal("V2", monitor.CurrentValue.GrayVersion);
        Assert.Contains(logs.GetSnapshot(), r => r.Level == LogLevel.Error && r.Message.Contains("Sometimes", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Valid_reload_after_an_invalid_one_applies_and_notifies()
    {
        var (provider, source, _) = Build();
        await using var __ = provider;
        var monitor = provider.GetRequiredService<IOptionsMonitor<GrayReleaseOptions>>();
        var seen = new List<string?>();
        using var subscription = monitor.OnChange(options => seen.Add(options.GrayVersion));

        source.Replace(new() { ["GrayRelease:HeaderName"] = "bad header" });
        source.Replace(new() { ["GrayRelease:GrayVersion"] = "V3" });

        Assert.Equal("V3", monitor.CurrentValue.GrayVersion);
        Assert.Equal(new[] { "V3" }, seen);
    }

    [Fact]
    public async Task Load_balancer_keeps_routing_through_an_invalid_reload()
    {
        var (provider, source, _) = Build();
        await using var _ = provider;
        source.Replace(new()
        {
            ["GrayRelease:ProdVersion"] = "V1",
            ["GrayRelease:GrayVersion"] = "V2",
            ["GrayRelease:Instances:user-app:0:Address"] = "http://127.0.0.1:7201",
            ["GrayRelease:Instances:user-app:0:Version"] = "V1",
            ["GrayRelease:Instances:user-app:1:Address"] = "http://127.0.0.1:7202",
            ["GrayRelease:Instances:user-app:1:Version"] = "V2",
        });
        var balancer = provider.GetRequiredService<GrayRelease.LoadBalancing.IGrayLoadBalancer>();
        Assert.Equal(7202, (await balancer.PickAsync("user-app", GrayStatus.Gray))!.Port);

        source.Replace(new()
        {
            ["GrayRelease:GrayVersion"] = "V1",
            ["GrayRelease:Instances:user-app:0:Address"] = "not an address",
        });

        Assert.Equal(7202, (await balancer.PickAsync("user-app", GrayStatus.Gray))!.Port);
    }
}
