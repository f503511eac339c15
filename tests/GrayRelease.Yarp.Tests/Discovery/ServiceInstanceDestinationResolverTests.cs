using GrayRelease.Yarp.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Moq;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.ServiceDiscovery;
using static GrayRelease.Yarp.Tests.Infrastructure.TestInstanceProvider;

namespace GrayRelease.Yarp.Tests.Discovery;

public class ServiceInstanceDestinationResolverTests
{
    private readonly TestInstanceProvider _provider = new();
    private readonly FakeTimeProvider _time = new();

    private static readonly DestinationConfig Placeholder = new()
    {
        Address = "http://order-app",
        Health = "http://order-app/health",
        Metadata = new Dictionary<string, string> { [GrayReleaseProxy.ServiceMetadataKey] = "order-app", ["zone"] = "a" },
    };

    [Fact]
    public async Task Registry_destination_becomes_one_destination_per_routable_instance_with_its_metadata()
    {
        _provider.SetInstances(
            "order-app",
            Instance("order-app", "10.0.0.1", 7001, "v1"),
            Instance("order-app", "10.0.0.2", 7002, "v2", weight: 2.5),
            Instance("order-app", "10.0.0.3", 7003, "v2", healthy: false),
            Instance("order-app", "10.0.0.4", 7004, "v2", enabled: false),
            Instance("order-app", "10.0.0.5", 7005, "v2", weight: 0));
        using var resolver = CreateResolver();

        var resolved = await resolver.ResolveDestinationsAsync(new Dictionary<string, DestinationConfig> { ["registry"] = Placeholder }, CancellationToken.None);

        var destinations = resolved.Destinations.Values.OrderBy(d => d.Address, StringComparer.Ordinal).ToArray();
        Assert.Equal(["http://10.0.0.1:7001", "http://10.0.0.2:7002"], destinations.Select(d => d.Address));
        Assert.Equal(["v1", "v2"], destinations.Select(d => d.Metadata!["version"]));
        Assert.All(destinations, d => Assert.Equal("order-app", d.Metadata![GrayReleaseProxy.ServiceMetadataKey]));
        Assert.All(destinations, d => Assert.Equal("a", d.Metadata!["zone"]));
        Assert.Equal(["1", "2.5"], destinations.Select(d => d.Metadata![GrayReleaseProxy.WeightMetadataKey]));
        Assert.All(destinations, d => Assert.Equal("http://order-app/health", d.Health));
        Assert.NotNull(resolved.ChangeToken);
    }

    [Fact]
    public async Task Other_destinations_go_through_the_previously_registered_resolver()
    {
        var inner = new Mock<IDestinationResolver>();
        inner.Setup(r => r.ResolveDestinationsAsync(It.IsAny<IReadOnlyDictionary<string, DestinationConfig>>(), It.IsAny<CancellationToken>()))
            .Returns((IReadOnlyDictionary<string, DestinationConfig> d, CancellationToken _) =>
                ValueTask.FromResult(new ResolvedDestinationCollection(d.ToDictionary(p => p.Key, p => p.Value with { Address = "http://10.9.9.9" }), null)));
        _provider.SetInstances("order-app", Instance("order-app", "10.0.0.1", 7001, "v1"));
        using var resolver = CreateResolver(inner.Object);

        var resolved = await resolver.ResolveDestinationsAsync(
            new Dictionary<string, DestinationConfig> { ["registry"] = Placeholder, ["static"] = new() { Address = "http://static.test" } },
            CancellationToken.None);

        Assert.Equal("http://10.9.9.9", resolved.Destinations["static"].Address);
        Assert.Equal(2, resolved.Destinations.Count);
        inner.Verify(r => r.ResolveDestinationsAsync(It.Is<IReadOnlyDictionary<string, DestinationConfig>>(d => d.Count == 1 && d.ContainsKey("static")), It.IsAny<CancellationToken>()));
    }

    [Fact]
    public async Task Change_token_fires_when_the_provider_reports_a_change_of_that_service_only()
    {
        _provider.SetInstances("order-app", Instance("order-app", "10.0.0.1", 7001, "v1"));
        using var resolver = CreateResolver();
        var resolved = await resolver.ResolveDestinationsAsync(new Dictionary<string, DestinationConfig> { ["registry"] = Placeholder }, CancellationToken.None);

        _provider.SetInstances("user-app", Instance("user-app", "10.0.0.9", 7009, "v1"));
        Assert.False(resolved.ChangeToken!.HasChanged);

        _provider.SetInstances("order-app", Instance("order-app", "10.0.0.2", 7002, "v2"));
        Assert.True(resolved.ChangeToken.HasChanged);
    }

    [Fact]
    public async Task Unknown_service_resolves_to_no_destinations_and_a_later_registration_fires_the_token()
    {
        using var resolver = CreateResolver();

        var resolved = await resolver.ResolveDestinationsAsync(new Dictionary<string, DestinationConfig> { ["registry"] = Placeholder }, CancellationToken.None);

        Assert.Empty(resolved.Destinations);
        _provider.SetInstances("order-app", Instance("order-app", "10.0.0.1", 7001, "v1"));
        Assert.True(resolved.ChangeToken!.HasChanged);
    }

    [Fact]
    public async Task Failing_registry_resolves_to_no_destinations_and_retries_after_the_delay()
    {
        _provider.FailWith = _ => new HttpRequestException("registry down");
        using var resolver = CreateResolver();

        var resolved = await resolver.ResolveDestinationsAsync(new Dictionary<string, DestinationConfig> { ["registry"] = Placeholder }, CancellationToken.None);

        Assert.Empty(resolved.Destinations);
        Assert.False(resolved.ChangeToken!.HasChanged);
        _time.Advance(ServiceInstanceDestinationResolver.DefaultRetryDelay);
        Assert.True(resolved.ChangeToken.HasChanged);
    }

    [Fact]
    public async Task Without_registry_destinations_the_inner_resolver_answers_alone()
    {
        using var resolver = CreateResolver();
        var destinations = new Dictionary<string, DestinationConfig> { ["static"] = new() { Address = "http://static.test" } };

        var resolved = await resolver.ResolveDestinationsAsync(destinations, CancellationToken.None);

        Assert.Same(destinations, resolved.Destinations);
        Assert.Equal(0, _provider.Lookups);
    }

    private ServiceInstanceDestinationResolver CreateResolver(IDestinationResolver? inner = null) =>
        new(_provider, inner, _time, NullLogger<ServiceInstanceDestinationResolver>.Instance);
}
