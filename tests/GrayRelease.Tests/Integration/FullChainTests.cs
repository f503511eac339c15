using System.Net.Http.Json;
using GrayRelease.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GrayRelease.Tests.Integration;

/// <summary>order V1/V2 and user V1/V2 (two instances each) on real Kestrel, the test acting as the gateway.</summary>
public sealed class FullChainFixture : IAsyncLifetime
{
    private readonly List<LoopbackApp> _apps = [];

    public ServiceProvider Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var users = new List<(string, Uri)>();
        foreach (var version in new[] { "V1", "V1", "V2", "V2" })
        {
            var app = await ChainApps.StartUserAppAsync(version);
            _apps.Add(app);
            users.Add((version, app.Address));
        }

        var orders = new List<(string, Uri)>();
        foreach (var version in new[] { "V1", "V2" })
        {
            var app = await ChainApps.StartOrderAppAsync(version, users);
            _apps.Add(app);
            orders.Add((version, app.Address));
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(ChainApps.InstanceSettings("order-app", orders)).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddGrayRelease(configuration);
        services.AddHttpClient("gateway").AddGrayRelease();
        Gateway = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }
    }

    public async Task<OrderDto> GetOrderAsync(GrayStatus? status, int id = 1)
    {
        var client = Gateway.GetRequiredService<IHttpClientFactory>().CreateClient("gateway");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using (status is { } s ? GrayContext.Begin(s) : GrayContext.Suppress())
        {
            return (await client.GetFromJsonAsync<OrderDto>($"http://order-app/orders/{id}", timeout.Token))!;
        }
    }
}

public sealed class FullChainTests(FullChainFixture chain) : IClassFixture<FullChainFixture>
{
    [Fact]
    public async Task Prod_requests_only_reach_V1_then_V1()
    {
        for (var i = 0; i < 12; i++)
        {
            var order = await chain.GetOrderAsync(GrayStatus.Prod, i);
            Assert.Equal(("V1", "V1"), (order.ServedBy.Version, order.User.ServedBy.Version));
            Assert.Equal("PROD", order.User.GrayHeader);
        }
    }

    [Fact]
    public async Task Gray_requests_only_reach_V2_then_V2()
    {
        for (var i = 0; i < 12; i++)
        {
            var order = await chain.GetOrderAsync(GrayStatus.Gray, i);
            Assert.Equal(("V2", "V2"), (order.ServedBy.Version, order.User.ServedBy.Version));
            Assert.Equal("GRAY", order.User.GrayHeader);
        }
    }

    [Fact]
    public async Task All_requests_reach_both_versions_on_both_hops()
    {
        var orderVersions = new HashSet<string>();
        var userVersions = new HashSet<string>();
        for (var i = 0; i < 16; i++)
        {
            var order = await chain.GetOrderAsync(GrayStatus.All, i);
            orderVersions.Add(order.ServedBy.Version);
            userVersions.Add(order.User.ServedBy.Version);
        }

        Assert.Equal(new[] { "V1", "V2" }, orderVersions.Order());
        Assert.Equal(new[] { "V1", "V2" }, userVersions.Order());
    }

    [Fact]
    public async Task Untagged_requests_stay_on_the_callers_version()
    {
        for (var i = 0; i < 12; i++)
        {
            var order = await chain.GetOrderAsync(null, i);
            Assert.Equal(order.ServedBy.Version, order.User.ServedBy.Version);
            Assert.Equal(string.Empty, order.User.GrayHeader);
        }
    }

    [Fact]
    public async Task Round_robin_spreads_gray_calls_over_both_gray_user_instances()
    {
        var ports = new HashSet<int>();
        for (var i = 0; i < 8; i++)
        {
            ports.Add((await chain.GetOrderAsync(GrayStatus.Gray, i)).User.ServedBy.Port);
        }

        Assert.Equal(2, ports.Count);
    }

    [Fact]
    public async Task Concurrent_mixed_requests_never_cross_versions()
    {
        var statuses = new[] { GrayStatus.Prod, GrayStatus.Gray, GrayStatus.All };
        var results = await Task.WhenAll(Enumerable.Range(0, 300).Select(async i =>
        {
            var status = statuses[i % statuses.Length];
            var order = await Task.Run(() => chain.GetOrderAsync(status, i));
            return (status, order);
        }));

        Assert.All(results.Where(r => r.status == GrayStatus.Prod), r => Assert.Equal(("V1", "V1"), (r.order.ServedBy.Version, r.order.User.ServedBy.Version)));
        Assert.All(results.Where(r => r.status == GrayStatus.Gray), r => Assert.Equal(("V2", "V2"), (r.order.ServedBy.Version, r.order.User.ServedBy.Version)));
    }
}
