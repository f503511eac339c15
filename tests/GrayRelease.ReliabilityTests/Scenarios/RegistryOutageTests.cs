using System.Diagnostics;
using GrayRelease.ReliabilityTests.Infrastructure;

namespace GrayRelease.ReliabilityTests.Scenarios;

/// <summary>Scenario 2: the registry goes away under load and comes back.</summary>
public sealed class RegistryOutageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Registry_outage_under_load_fails_no_request_and_the_system_recovers()
    {
        var outage = TimeSpan.FromSeconds(Suite.Long ? 60 : 30);
        using var bound = Suite.Bound(outage + TimeSpan.FromSeconds(120));
        var ct = bound.Token;
        await using var system = await GraySystem.StartAsync(null, ct);
        var gateway = await system.StartStandardAsync(ct);
        using var client = GraySystem.ClientFor(gateway);
        await Warmup.UntilRoutedAsync(client, ct);
        await system.WaitRegisteredAsync("gateway-app", 1, ct);

        await using var load = LoadRunner.Start(client, concurrency: 20, Mixed, ct);
        await load.WaitForMoreAsync(200, ct);

        await system.Emulator.StopAsync(ct);
        var before = load.Completed;
        // The outage itself: a length of time under load, not a wait for some event.
        await Task.Delay(outage, ct);
        var duringOutage = load.Completed - before;
        var failuresDuringOutage = load.Outcomes.Count(o => !o.Succeeded);

        var restart = Stopwatch.StartNew();
        await system.Emulator.RestartAsync(ct);
        await system.WaitRegisteredAsync("user-app", 2, ct);
        await system.WaitRegisteredAsync("order-app", 2, ct);
        await system.WaitRegisteredAsync("gateway-app", 1, ct);
        var reRegistered = restart.Elapsed;

        // Discovery works again end to end: an instance that did not exist before the outage gets traffic.
        var fresh = await system.StartUserAsync("V1", ct);
        var started = Stopwatch.StartNew();
        await Suite.WaitUntilAsync(() => load.Outcomes.Any(o => o.UserPort == fresh.Port), "the new user-app V1 instance is routed to", ct);
        var routedAfter = started.Elapsed;
        await load.WaitForMoreAsync(200, ct);
        var result = await load.StopAsync();

        output.WriteLine(result.Summary($"registry outage of {outage.TotalSeconds:F0} s under 20 in flight"));
        output.WriteLine($"  during the outage: {duringOutage} requests, {failuresDuringOutage} failed; all instances registered again {reRegistered.TotalSeconds:F1} s after the restart; a new instance got traffic {routedAfter.TotalSeconds:F2} s after it started");
        foreach (var problem in result.Problems())
        {
            output.WriteLine(problem);
        }

        Assert.True(duringOutage > 0, "requests kept completing while the registry was down");
        Assert.Equal(0, result.Failures);
        Assert.Equal(0, result.CrossTalk);
    }

    private static LoadRequest Mixed(int i) => i % 2 == 0
        ? new LoadRequest($"/order/orders/{i}", Expect.Gray, [new("gray", GraySystem.GrayHeaderValue)])
        : new LoadRequest($"/order/orders/{i}", Expect.Prod);
}
