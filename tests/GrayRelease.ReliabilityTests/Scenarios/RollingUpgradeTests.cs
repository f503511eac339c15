using GrayRelease.ReliabilityTests.Infrastructure;
using GrayRelease.Testing;

namespace GrayRelease.ReliabilityTests.Scenarios;

/// <summary>Scenario 4: user-app V1 instances replaced one by one, each stopped gracefully (deregister, drain, stop).</summary>
public sealed class RollingUpgradeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Rolling_upgrade_of_user_app_under_load_fails_no_request()
    {
        using var bound = Suite.Bound(TimeSpan.FromSeconds(Suite.Long ? 300 : 120));
        var ct = bound.Token;
        await using var system = await GraySystem.StartAsync(null, ct);
        var gateway = await system.StartStandardAsync(ct, userV1: 2);
        using var client = GraySystem.ClientFor(gateway);
        await Warmup.UntilRoutedAsync(client, ct);

        await using var load = LoadRunner.Start(client, concurrency: 20, i => i % 2 == 0
            ? new LoadRequest($"/order/orders/{i}", Expect.Gray, [new("gray", GraySystem.GrayHeaderValue)])
            : new LoadRequest($"/order/orders/{i}", Expect.Prod), ct);
        await load.WaitForMoreAsync(200, ct);

        var rounds = Suite.Long ? 3 : 1;
        var replaced = 0;
        for (var round = 0; round < rounds; round++)
        {
            foreach (var old in system.Hosts.Where(h => h.Service == "user-app" && h.Version == "V1" && !h.IsStopped).ToList())
            {
                var fresh = await system.StartUserAsync("V1", ct);
                await Eventually.WaitUntilAsync(() => load.Outcomes.Any(o => o.UserPort == fresh.Port), $"the new instance :{fresh.Port} gets traffic", cancellationToken: ct);
                await old.StopGracefullyAsync(ct);
                replaced++;
                await load.WaitForMoreAsync(100, ct);
            }
        }

        var live = system.Hosts.Where(h => h.Service == "user-app" && !h.IsStopped).Select(h => h.Port).ToHashSet();
        var mark = load.Completed;
        await load.WaitForMoreAsync(200, ct);
        var result = await load.StopAsync();

        output.WriteLine(result.Summary($"rolling upgrade: {replaced} user-app V1 instance(s) replaced under 20 in flight"));
        foreach (var problem in result.Problems())
        {
            output.WriteLine(problem);
        }

        Assert.Equal(0, result.Failures);
        Assert.Equal(0, result.CrossTalk);
        Assert.All(result.Outcomes.Skip(mark), o => Assert.Contains(o.UserPort, live));
    }
}
