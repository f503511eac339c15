using GrayRelease.ReliabilityTests.Infrastructure;

namespace GrayRelease.ReliabilityTests.Scenarios;

/// <summary>Scenario 1: mixed ALL / PROD / GRAY traffic at high concurrency never crosses versions on any hop.</summary>
public sealed class IsolationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Mixed_traffic_under_load_never_crosses_versions_on_any_hop()
    {
        using var bound = Suite.Bound(TimeSpan.FromSeconds(Suite.Long ? 600 : 120));
        var ct = bound.Token;
        await using var system = await GraySystem.StartAsync(null, ct);
        var gatewayOn = await system.StartStandardAsync(ct);
        var gatewayOff = await system.StartGatewayAsync(GraySystem.GatewayOffDataId, ct);
        using var on = GraySystem.ClientFor(gatewayOn);
        using var off = GraySystem.ClientFor(gatewayOff);
        await Warmup.UntilRoutedAsync(on, ct);
        await Warmup.UntilRoutedAsync(off, ct);

        var total = Suite.Long ? 50_000 : 10_000;
        var result = await LoadRunner.RunAsync(on, total, concurrency: 64, i => (i % 4) switch
        {
            0 => new LoadRequest($"/order/orders/{i}", Expect.Gray, [new("gray", GraySystem.GrayHeaderValue)]),
            1 => new LoadRequest($"/order/orders/{i}", Expect.Prod),
            // A client claiming gray by itself is production traffic: only the gateway's rules decide.
            2 => new LoadRequest($"/order/orders/{i}", Expect.Prod, [new("gray", "GRAY")]),
            _ => new LoadRequest($"/order/orders/{i}", Expect.All, Client: off),
        }, ct);

        output.WriteLine(result.Summary("isolation under load (64 in flight)"));
        foreach (var problem in result.Problems())
        {
            output.WriteLine(problem);
        }

        var all = result.Outcomes.Where(o => o.Expect == Expect.All && o.Succeeded).ToList();
        output.WriteLine($"ALL traffic: order versions {string.Join("/", all.Select(o => o.OrderVersion).Distinct().Order())}, user versions {string.Join("/", all.Select(o => o.UserVersion).Distinct().Order())}");
        Assert.Equal(total, result.Requests);
        Assert.Equal(0, result.Failures);
        Assert.Equal(0, result.CrossTalk);
        // ALL really is "any version": both versions took part on both hops, so the switch-off path was exercised.
        Assert.Equal(["V1", "V2"], all.Select(o => o.OrderVersion).Distinct().Order());
        Assert.Equal(["V1", "V2"], all.Select(o => o.UserVersion).Distinct().Order());
    }
}
