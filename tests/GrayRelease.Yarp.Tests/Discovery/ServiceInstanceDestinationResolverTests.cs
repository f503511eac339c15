using System.Diagnostics;
using GrayRelease.Yarp.Tests.Infrastructure;
using Microsoft.Extensions.Primitives;
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
        Assert.NotNull(resolved.ChangeToken);
    }

    [Fact]
    public async Task Each_instance_is_probed_at_its_own_address_not_at_the_placeholder_health_address()
    {
        _provider.SetInstances("order-app", Instance("order-app", "10.0.0.1", 7001, "v1"), Instance("order-app", "10.0.0.2", 7002, "v2"));
        using var resolver = CreateResolver();

        var resolved = await resolver.ResolveDestinationsAsync(
            new Dictionary<string, DestinationConfig>
            {
                ["registry"] = Placeholder,
                ["no-health"] = Placeholder with { Health = null },
            },
            CancellationToken.None);

        var health = resolved.Destinations.Values.Select(d => d.Health ?? "(none)").Order(StringComparer.Ordinal).ToArray();

        // The placeholder's host is a service name, not a place to probe: only its path carries over to each instance.
        Assert.Equal(["(none)", "(none)", "http://10.0.0.1:7001/health", "http://10.0.0.2:7002/health"], health);
    }

    [Fact]
    public async Task Services_whose_names_differ_only_in_case_resolve_and_change_apart()
    {
        _provider.SetInstances("OrderApp", Instance("OrderApp", "10.0.0.1", 7001, "v1"));
        _provider.SetInstances("orderapp", Instance("orderapp", "10.0.0.2", 7002, "v1"));
        using var resolver = CreateResolver();

        var upper = await resolver.ResolveDestinationsAsync(Registry("OrderApp"), CancellationToken.None);
        var lower = await resolver.ResolveDestinationsAsync(Registry("orderapp"), CancellationToken.None);

        Assert.Equal("http://10.0.0.1:7001", Assert.Single(upper.Destinations).Value.Address);
        Assert.Equal("http://10.0.0.2:7002", Assert.Single(lower.Destinations).Value.Address);
        _provider.SetInstances("OrderApp", Instance("OrderApp", "10.0.0.3", 7003, "v1"));
        await WaitForChangeAsync(upper.ChangeToken!);
        Assert.False(lower.ChangeToken!.HasChanged);
    }

    [Fact]
    public async Task Change_token_fires_without_the_gray_tag_or_activity_of_the_flow_that_reported_the_change()
    {
        _provider.SetInstances("order-app", Instance("order-app", "10.0.0.1", 7001, "v1"));
        using var resolver = CreateResolver();
        var resolved = await resolver.ResolveDestinationsAsync(new Dictionary<string, DestinationConfig> { ["registry"] = Placeholder }, CancellationToken.None);
        var seen = new TaskCompletionSource<(GrayStatus?, Activity?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        resolved.ChangeToken!.RegisterChangeCallback(_ => seen.TrySetResult((GrayContext.Current, Activity.Current)), null);

        // A provider raising its event from a request's flow (a refresh triggered by a lookup) must not hand that
        // request's tag and trace to YARP's re-resolution and whatever it starts.
        using (var activity = new Activity("request").Start())
        using (GrayContext.Begin(GrayStatus.Gray))
        {
            _provider.SetInstances("order-app", Instance("order-app", "10.0.0.2", 7002, "v2"));
        }

        var (status, current) = await seen.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Null(status);
        Assert.Null(current);
    }

    [Fact]
    public async Task Work_a_provider_starts_during_resolution_carries_no_gray_tag_and_no_activity()
    {
        var loopSaw = new TaskCompletionSource<(GrayStatus?, Activity?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        _provider.SetInstances("order-app", Instance("order-app", "10.0.0.1", 7001, "v1"));
        _provider.FailWith = service =>
        {
            // What a naive registry client does: start its poll loop on first use.
            _ = Task.Run(() => loopSaw.TrySetResult((GrayContext.Current, Activity.Current)));
            return null;
        };
        using var resolver = CreateResolver();

        using (var activity = new Activity("request").Start())
        using (GrayContext.Begin(GrayStatus.Gray))
        {
            await resolver.ResolveDestinationsAsync(new Dictionary<string, DestinationConfig> { ["registry"] = Placeholder }, CancellationToken.None);
        }

        var (status, current) = await loopSaw.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Null(status);
        Assert.Null(current);
    }

    [Fact]
    public async Task Retry_after_a_failed_lookup_fires_without_the_gray_tag_or_activity_of_the_resolving_flow()
    {
        _provider.FailWith = _ => new HttpRequestException("registry down");
        using var resolver = new ServiceInstanceDestinationResolver(_provider, null, TimeProvider.System, NullLogger<ServiceInstanceDestinationResolver>.Instance)
        {
            RetryDelay = TimeSpan.FromMilliseconds(50),
        };
        ResolvedDestinationCollection resolved;
        using (var activity = new Activity("request").Start())
        using (GrayContext.Begin(GrayStatus.Gray))
        {
            resolved = await resolver.ResolveDestinationsAsync(new Dictionary<string, DestinationConfig> { ["registry"] = Placeholder }, CancellationToken.None);
        }

        var seen = new TaskCompletionSource<(GrayStatus?, Activity?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        resolved.ChangeToken!.RegisterChangeCallback(_ => seen.TrySetResult((GrayContext.Current, Activity.Current)), null);

        var (status, current) = await seen.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Null(status);
        Assert.Null(current);
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
        await WaitForChangeAsync(resolved.ChangeToken);
    }

    [Fact]
    public async Task Unknown_service_resolves_to_no_destinations_and_a_later_registration_fires_the_token()
    {
        using var resolver = CreateResolver();

        var resolved = await resolver.ResolveDestinationsAsync(new Dictionary<string, DestinationConfig> { ["registry"] = Placeholder }, CancellationToken.None);

        Assert.Empty(resolved.Destinations);
        _provider.SetInstances("order-app", Instance("order-app", "10.0.0.1", 7001, "v1"));
        await WaitForChangeAsync(resolved.ChangeToken!);
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

    private static Dictionary<string, DestinationConfig> Registry(string service) => new()
    {
        ["registry"] = new DestinationConfig { Address = "http://registry", Metadata = new Dictionary<string, string> { [GrayReleaseProxy.ServiceMetadataKey] = service } },
    };

    // The token fires from a clean thread-pool work item, not inside the provider's event: wait for it.
    private static async Task WaitForChangeAsync(IChangeToken token)
    {
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = token.RegisterChangeCallback(_ => fired.TrySetResult(), null);
        if (token.HasChanged)
        {
            return;
        }

        await fired.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private ServiceInstanceDestinationResolver CreateResolver(IDestinationResolver? inner = null) =>
        new(_provider, inner, _time, NullLogger<ServiceInstanceDestinationResolver>.Instance);
}
