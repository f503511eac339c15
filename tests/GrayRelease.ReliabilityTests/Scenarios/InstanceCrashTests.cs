using System.Diagnostics;
using GrayRelease.ReliabilityTests.Infrastructure;
using GrayRelease.Testing;
using CoreEventIds = GrayRelease.Diagnostics.EventIds;

namespace GrayRelease.ReliabilityTests.Scenarios;

/// <summary>Scenario 3: a user-app instance dies under load.</summary>
public sealed class InstanceCrashTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Crashed_instance_costs_no_failed_GET_and_is_no_longer_picked()
    {
        using var bound = Suite.Bound(TimeSpan.FromSeconds(120));
        var ct = bound.Token;
        await using var system = await GraySystem.StartAsync(null, ct);
        var gateway = await system.StartStandardAsync(ct, userV1: 2);
        using var client = GraySystem.ClientFor(gateway);
        await Warmup.UntilRoutedAsync(client, ct);
        var victim = system.Hosts.First(h => h.Service == "user-app" && h.Version == "V1");
        var peer = system.Hosts.Last(h => h.Service == "user-app" && h.Version == "V1");

        // Production traffic only: every request needs a user-app V1, and half of the picks were the victim's.
        await using var load = LoadRunner.Start(client, concurrency: 20, i => new LoadRequest($"/order/orders/{i}", Expect.Prod), ct);
        await load.WaitForMoreAsync(200, ct);
        Assert.Contains(load.Outcomes, o => o.UserPort == victim.Port);

        await victim.CrashAsync();
        var crash = Stopwatch.StartNew();
        var crashedAt = Stopwatch.GetTimestamp();
        using (var probe = new System.Net.Sockets.TcpClient())
        {
            await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(async () => await probe.ConnectAsync("127.0.0.1", victim.Port, ct));
        }

        await Eventually.WaitUntilAsync(
            () => system.Emulator.GetInstances("user-app").All(i => i.Port != victim.Port || !i.Healthy),
            "the registry marks the crashed instance unhealthy (heartbeat timeout 3 s)", cancellationToken: ct);
        var unhealthyAfter = crash.Elapsed;

        var orderApps = system.Hosts.Where(h => h.Service == "order-app").ToList();
        await Eventually.WaitUntilAsync(
            async () =>
            {
                foreach (var order in orderApps)
                {
                    for (var i = 0; i < 8; i++)
                    {
                        if ((await order.LoadBalancer.PickAsync("user-app", GrayStatus.Prod, ct))?.Port == victim.Port)
                        {
                            return false;
                        }
                    }
                }

                return true;
            },
            "no order-app picks the crashed instance any more", cancellationToken: ct);
        var droppedAfter = crash.Elapsed;

        await load.WaitForMoreAsync(300, ct);
        var result = await load.StopAsync();
        var quarantined = system.Logs.Entries.Count(e => e.Category.EndsWith("GrayLoadBalancer", StringComparison.Ordinal) && e.EventId == CoreEventIds.InstanceQuarantined && e.Message.Contains($":{victim.Port} ", StringComparison.Ordinal));

        // Answers the victim gave just before dying may still be on their way back through order-app and the gateway.
        var servedByVictimAfterCrash = result.Outcomes.Count(o => o.UserPort == victim.Port && o.CompletedAt > crashedAt + Stopwatch.Frequency);
        output.WriteLine(result.Summary("user-app V1 instance crashed under 20 in flight (GET)"));
        output.WriteLine($"  answers from the crashed instance completed more than 1 s after the crash: {servedByVictimAfterCrash}");
        output.WriteLine($"  registry marked it unhealthy after {unhealthyAfter.TotalSeconds:F1} s; no order-app picks it after {droppedAfter.TotalSeconds:F1} s; quarantine log lines for it: {quarantined}; requests served by the peer afterwards: {load.Outcomes.Count(o => o.UserPort == peer.Port)}");
        output.WriteLine($"  requests slower than 1 s (retried after the crash): {result.Outcomes.Count(o => o.Milliseconds > 1000)}");
        foreach (var problem in result.Problems())
        {
            output.WriteLine(problem);
        }

        foreach (var line in system.Logs.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning).GroupBy(e => e.Host + " " + e.Category + " " + e.EventId).Select(g => $"  {g.Count()} x {g.Key}: {g.First().Message}").Take(10))
        {
            output.WriteLine(line);
        }

        var afterCrash = result.Outcomes.Where(o => o.CompletedAt > crashedAt).ToList();
        output.WriteLine($"  completed after the crash: {afterCrash.Count}; the first second after it: {afterCrash.Count(o => o.CompletedAt < crashedAt + Stopwatch.Frequency)}");

        Assert.Equal(0, result.Failures);
        Assert.Equal(0, result.CrossTalk);
        Assert.Equal(0, servedByVictimAfterCrash);
        Assert.True(quarantined > 0, "the refused instance was quarantined by the order-apps' load balancers");
    }

    [Fact]
    public async Task Non_idempotent_POST_is_sent_once_when_unsafe_methods_are_excluded_from_retries()
    {
        var attempts = await PostToAFailingInstanceAsync(new SystemOptions { RetryUnsafeMethods = false, RawClientRetryDelay = TimeSpan.FromMilliseconds(20) });
        output.WriteLine($"POST with Retry.DisableForUnsafeHttpMethods(): user-app saw {attempts} attempt(s)");
        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task Standard_resilience_handler_retries_a_non_idempotent_POST_unless_told_not_to()
    {
        // Characterises the default wiring of the README and samples (AddStandardResilienceHandler() as is): a POST
        // cut mid-request is sent again, so a handler that is not idempotent runs more than once.
        var attempts = await PostToAFailingInstanceAsync(new SystemOptions { RetryUnsafeMethods = true, RawClientRetryDelay = TimeSpan.FromMilliseconds(20) });
        output.WriteLine($"POST with AddStandardResilienceHandler() defaults: user-app saw {attempts} attempt(s)");
        Assert.Equal(4, attempts);
    }

    private static async Task<int> PostToAFailingInstanceAsync(SystemOptions options)
    {
        using var bound = Suite.Bound(TimeSpan.FromSeconds(60));
        var ct = bound.Token;
        await using var system = await GraySystem.StartAsync(options, ct);
        var user = await system.StartUserAsync("V1", ct);
        var order = await system.StartOrderAsync("V1", ct);
        await system.WaitRegisteredAsync("user-app", 1, ct);
        using var client = GraySystem.ClientFor(order);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/orders/7/visits");
        request.Headers.Add("gray", "PROD");
        using var response = await client.SendAsync(request, ct);

        Assert.Equal(System.Net.HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(1, order.Counters.Posts);
        return user.Counters.Posts;
    }
}
