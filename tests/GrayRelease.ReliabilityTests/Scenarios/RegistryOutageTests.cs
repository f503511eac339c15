using System.Diagnostics;
using GrayRelease.ReliabilityTests.Infrastructure;
using GrayRelease.Testing;

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
        var restartedAt = Stopwatch.GetTimestamp();
        await system.Emulator.RestartAsync(ct);
        await system.WaitRegisteredAsync("user-app", 2, ct);
        await system.WaitRegisteredAsync("order-app", 2, ct);
        await system.WaitRegisteredAsync("gateway-app", 1, ct);
        var reRegistered = restart.Elapsed;
        var allBackAt = Stopwatch.GetTimestamp();

        // Discovery works again end to end: an instance that did not exist before the outage gets traffic.
        var fresh = await system.StartUserAsync("V1", ct);
        var started = Stopwatch.StartNew();
        await Eventually.WaitUntilAsync(() => load.Outcomes.Any(o => o.UserPort == fresh.Port), "the new user-app V1 instance is routed to", cancellationToken: ct);
        var routedAfter = started.Elapsed;
        await load.WaitForMoreAsync(200, ct);
        var result = await load.StopAsync();

        output.WriteLine(result.Summary($"registry outage of {outage.TotalSeconds:F0} s under 20 in flight"));
        output.WriteLine($"  during the outage: {duringOutage} requests, {failuresDuringOutage} failed; all instances registered again {reRegistered.TotalSeconds:F1} s after the restart; a new instance got traffic {routedAfter.TotalSeconds:F2} s after it started");
        foreach (var problem in result.Problems())
        {
            output.WriteLine(problem);
        }

        // A restarted Nacos has lost every ephemeral instance; they come back one beat at a time, and until the last
        // one has, clients are pushed partial lists. Failures there are the known gap (see the skipped test below);
        // anywhere else they are a regression.
        var window = result.Outcomes.Where(o => !o.Succeeded && o.CompletedAt >= restartedAt && o.CompletedAt <= allBackAt + Stopwatch.Frequency).ToList();
        output.WriteLine($"  failures while instances re-registered after the restart: {window.Count} (all 503 no-instance: {window.All(o => o.Status == 503)}); elsewhere: {result.Failures - window.Count}");

        Assert.True(duringOutage > 0, "requests kept completing while the registry was down");
        Assert.Equal(0, failuresDuringOutage);
        Assert.Equal(0, result.CrossTalk);
        Assert.Equal(0, result.Failures - window.Count);
        Assert.All(window, o => Assert.Equal(503, o.Status));
    }

    [Fact]
    public async Task Registry_restart_does_not_replace_instance_lists_with_partial_ones()
    {
        using var bound = Suite.Bound(TimeSpan.FromSeconds(90));
        var ct = bound.Token;
        await using var system = await GraySystem.StartAsync(null, ct);
        // The prod instance beats every 3 s, the gray one every 0.5 s: after a restart the gray one is back first.
        await system.StartUserAsync("V1", ct, new Dictionary<string, string?> { ["nacos:Metadata:preserved.heart.beat.interval"] = "3000", ["nacos:Metadata:preserved.heart.beat.timeout"] = "15000" });
        await system.StartUserAsync("V2", ct);
        await system.StartOrderAsync("V1", ct);
        await system.StartOrderAsync("V2", ct);
        await system.WaitRegisteredAsync("user-app", 2, ct);
        await system.WaitRegisteredAsync("order-app", 2, ct);
        var gateway = await system.StartGatewayAsync(GraySystem.GatewayOnDataId, ct);
        using var client = GraySystem.ClientFor(gateway);
        await Warmup.UntilRoutedAsync(client, ct);
        await using var load = LoadRunner.Start(client, concurrency: 10, Mixed, ct);
        await load.WaitForMoreAsync(100, ct);

        await system.Emulator.StopAsync(ct);
        await load.WaitForMoreAsync(100, ct);
        // The outage itself is the scenario: longer than one poll period (cacheMillis 1 s), so the clients notice it.
        // A restart shorter than that goes unnoticed and is not covered (docs/nacos.md, RecoveryGrace).
        await Task.Delay(TimeSpan.FromSeconds(2.5), ct);
        await system.Emulator.RestartAsync(ct);
        await system.WaitRegisteredAsync("user-app", 2, ct);
        await load.WaitForMoreAsync(200, ct);
        var result = await load.StopAsync();

        output.WriteLine(result.Summary("registry restarted; prod instance re-registers 3 s after the gray one"));
        foreach (var problem in result.Problems(3))
        {
            output.WriteLine(problem);
        }

        Assert.Equal(0, result.Failures);
        Assert.Equal(0, result.CrossTalk);
    }

    private static LoadRequest Mixed(int i) => i % 2 == 0
        ? new LoadRequest($"/order/orders/{i}", Expect.Gray, [new("gray", GraySystem.GrayHeaderValue)])
        : new LoadRequest($"/order/orders/{i}", Expect.Prod);
}
