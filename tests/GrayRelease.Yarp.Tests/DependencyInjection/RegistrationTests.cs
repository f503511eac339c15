using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.ServiceDiscovery;
using Yarp.ReverseProxy.Transforms.Builder;

namespace GrayRelease.Yarp.Tests.DependencyInjection;

public class RegistrationTests
{
    [Fact]
    public void Calling_AddGrayRelease_twice_registers_everything_once()
    {
        using var provider = Build(s => s.AddReverseProxy().AddGrayRelease().AddGrayRelease());

        Assert.Single(provider.GetServices<ILoadBalancingPolicy>(), p => p.Name == GrayReleaseProxy.RoundRobinPolicy);
        Assert.Single(provider.GetServices<ITransformProvider>(), p => p is GrayHeaderTransformProvider);
        Assert.IsType<ServiceInstanceDestinationResolver>(provider.GetRequiredService<IDestinationResolver>());
    }

    [Fact]
    public async Task Destination_resolver_registered_before_is_kept_for_other_destinations()
    {
        using var provider = Build(s => s.AddReverseProxy().AddDnsDestinationResolver(o => o.AddressFamily = System.Net.Sockets.AddressFamily.InterNetwork).AddGrayRelease());
        var resolver = provider.GetRequiredService<IDestinationResolver>();

        var resolved = await resolver.ResolveDestinationsAsync(
            new Dictionary<string, DestinationConfig> { ["local"] = new() { Address = "http://localhost:5000" } },
            CancellationToken.None);

        // The DNS resolver expands a host name into one destination per address.
        Assert.All(resolved.Destinations.Values, d => Assert.Equal("http://127.0.0.1:5000/", d.Address));
        Assert.NotEmpty(resolved.Destinations);
    }

    [Fact]
    public void Users_city_resolver_wins_whatever_the_order()
    {
        using var before = Build(s =>
        {
            s.AddSingleton<ICityResolver, FixedCity>();
            s.AddReverseProxy().AddGrayRelease();
        });
        using var after = Build(s =>
        {
            s.AddReverseProxy().AddGrayRelease();
            s.AddSingleton<ICityResolver, FixedCity>();
        });

        Assert.IsType<FixedCity>(before.GetRequiredService<ICityResolver>());
        Assert.IsType<FixedCity>(after.GetRequiredService<ICityResolver>());
    }

    [Fact]
    public void Custom_rules_from_the_container_join_the_configured_ones()
    {
        using var provider = Build(s =>
        {
            s.AddReverseProxy().AddGrayRelease();
            s.AddSingleton<IGrayRule, AlwaysGray>();
        });

        Assert.Equal(["header", "always"], provider.GetRequiredService<GrayDecisionEngine>().Rules.RuleNames);
    }

    private static ServiceProvider Build(Action<IServiceCollection> configure)
    {
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .AddLogging();
        configure(services);
        return services.BuildServiceProvider();
    }

    private sealed class FixedCity : ICityResolver
    {
        public string? ResolveCity(IPAddress address) => "Hangzhou";
    }

    private sealed class AlwaysGray : IGrayRule
    {
        public string Name => "always";

        public bool IsGray(in GrayRuleContext context) => true;
    }
}
