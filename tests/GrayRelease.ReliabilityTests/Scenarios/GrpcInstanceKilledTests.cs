using System.Diagnostics;
using GrayRelease.ReliabilityTests.Infrastructure;
using GrayRelease.Testing;

namespace GrayRelease.ReliabilityTests.Scenarios;

/// <summary>
/// Scenario 8 (issue 15): scenario 3 over gRPC. A gray user-app instance's server dies under load while the registry
/// still lists it; order-app's gray gRPC client (retry policy: <c>UNAVAILABLE</c> retryable, idempotent calls) loses
/// no call and sends none to another version. Then the registry drops the instance: its subchannel is shut down,
/// the other instances keep their connections.
/// </summary>
public sealed class GrpcInstanceKilledTests(ITestOutputHelper output)
{
    /// <param name="retry">
    /// With the README's retry policy (the claim), or without any (a measurement only: what the policy buys; calls
    /// caught by the kill may fail, none may reach another version).
    /// </param>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_gray_instance_killed_under_load_sends_no_call_to_another_version_and_with_retries_loses_none(bool retry)
    {
        using var bound = Suite.Bound(TimeSpan.FromSeconds(Suite.Long ? 600 : 180));
        var ct = bound.Token;
        await using var system = await GraySystem.StartAsync(null, ct);
        var prod = await system.StartGrpcUserAsync("V1", ct);
        var victim = await system.StartGrpcUserAsync("V2", ct);
        var peer = await system.StartGrpcUserAsync("V2", ct);
        var orders = new[]
        {
            await system.StartGrpcOrderAsync("V1", ct, retry: retry ? GrpcHosts.UnavailableRetry() : null),
            await system.StartGrpcOrderAsync("V2", ct, retry: retry ? GrpcHosts.UnavailableRetry() : null),
        };
        await system.WaitRegisteredAsync("user-app", 3, ct);
        await system.WaitRegisteredAsync("order-app", 2, ct);
        var caller = await system.StartGrpcClientAsync(ct);
        var client = caller.OrderClient();

        // Mostly GRAY (half of its picks are the victim's), some PROD beside it.
        static GrpcCall Call(int i) => i % 4 == 3 ? new GrpcCall(Expect.Prod, GrayStatus.Prod) : new GrpcCall(Expect.Gray, GrayStatus.Gray);
        await Eventually.WaitUntilAsync(
            async () => (await GrpcLoadRunner.SendAsync(client, Call(0), 0)).Succeeded && (await GrpcLoadRunner.SendAsync(client, Call(3), 3)).Succeeded,
            "gray and prod calls go through the chain",
            cancellationToken: ct);

        var concurrency = 24;
        await using var load = GrpcLoadRunner.Start(client, concurrency, Call, ct);
        await Eventually.WaitUntilAsync(
            () => load.Outcomes.Count(o => o.UserPort == victim.Port) >= 100 && load.Outcomes.Count(o => o.UserPort == peer.Port) >= 100,
            "both gray instances serve under load",
            TimeSpan.FromSeconds(60),
            ct);

        // The kill: Kestrel stops with an already cancelled token, so the listener closes and every connection is cut
        // at once, calls in flight included. The host's Nacos connection stays open: the registry still lists the
        // instance (as it does until a heartbeat timeout, or for an instance cut off from its callers only).
        var victimState = victim.GrpcState();
        var killedAt = Stopwatch.GetTimestamp();
        var servedBefore = victimState.Calls;
        using (var now = new CancellationTokenSource())
        {
            await now.CancelAsync();
            try
            {
                await victim.App.StopAsync(now.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or AggregateException)
            {
                // Expected: every stopping step was cancelled, which is the point.
            }
        }

        using (var probe = new System.Net.Sockets.TcpClient())
        {
            await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(async () => await probe.ConnectAsync("127.0.0.1", victim.Port, ct));
        }

        var afterKill = load.Completed;
        await load.WaitForMoreAsync(Suite.Long ? 20_000 : 3_000, ct);
        var listedThroughout = system.Emulator.GetInstances("user-app").Any(i => i.Port == victim.Port && i.Healthy && i.Enabled);
        var completedWithoutRegistry = load.Completed - afterKill;

        // The registry update: the host's remaining resources go, its Nacos connection with them, and the emulator
        // drops the ephemeral instance (as Nacos does when a client's gRPC connection closes) and pushes the new list.
        var connectionsBefore = (Prod: prod.GrpcState().Connections, Peer: peer.GrpcState().Connections);
        await victim.CrashAsync();
        await Eventually.WaitUntilAsync(
            () => system.Emulator.GetInstances("user-app").All(i => i.Port != victim.Port || !i.Healthy),
            "the registry no longer lists the killed instance as healthy",
            cancellationToken: ct);
        var shutDown = new List<string>();
        foreach (var order in orders)
        {
            await Eventually.WaitUntilAsync(
                () => VictimSubchannelsShutDown(system, order, victim.Port) is { Count: > 0 } ids && ids.All(id => id.ShutDown),
                $"{order.Name} shut the killed instance's subchannel down",
                cancellationToken: ct);
            shutDown.Add($"{order.Name}: {string.Join(", ", VictimSubchannelsShutDown(system, order, victim.Port).Select(s => s.Id))}");
        }

        await load.WaitForMoreAsync(Suite.Long ? 5_000 : 1_000, ct);
        var result = await load.StopAsync();
        var connectionsAfter = (Prod: prod.GrpcState().Connections, Peer: peer.GrpcState().Connections);

        var crossVersion = result.Outcomes.Count(o => GrpcIsolationTests.WrongOrderVersion(o) || GrpcIsolationTests.WrongUserVersion(o));
        var afterTheKill = result.Outcomes.Where(o => o.CompletedAt > killedAt).ToList();
        output.WriteLine(result.Summary($"gray user-app instance killed under {concurrency} in flight (gRPC, {(retry ? "retry on UNAVAILABLE" : "no retry policy")})"));
        output.WriteLine($"  cross-version hops: {crossVersion}; calls the victim began to serve: {servedBefore} before the kill, {victimState.Calls} in all");
        var retries = system.Logs.Entries.Where(e => orders.Any(o => o.Name == e.Host) && e.Category == "Grpc.Net.Client.Internal.RetryCall" && e.Message.StartsWith("Evaluated retry", StringComparison.Ordinal)).ToList();
        output.WriteLine($"  failed attempts evaluated for retry by order-app's client: {retries.Count} ({string.Join(", ", retries.GroupBy(e => e.Message).Select(g => $"{g.Key} ×{g.Count()}"))})");
        output.WriteLine($"  completed after the kill: {afterTheKill.Count}; {completedWithoutRegistry} of them while the registry still listed the instance (listed throughout: {listedThroughout}); slowest after the kill {afterTheKill.Max(o => o.Milliseconds):F0} ms");
        output.WriteLine($"  subchannels shut down after the registry update: {string.Join("; ", shutDown)}");
        output.WriteLine($"  connections accepted by the other user-apps across the registry update: prod {connectionsBefore.Prod} → {connectionsAfter.Prod}, gray peer {connectionsBefore.Peer} → {connectionsAfter.Peer}");
        foreach (var problem in result.Problems())
        {
            output.WriteLine(problem);
        }

        Assert.True(listedThroughout, "the registry dropped the killed instance before the calls after the kill ran: the scenario did not test what it says");
        if (retry)
        {
            Assert.Equal(0, result.Failures);
        }
        else
        {
            // Without a policy a call caught by the kill fails, with UNAVAILABLE (what the policy retries), and only then.
            Assert.All(result.Outcomes.Where(o => !o.Succeeded), o => Assert.StartsWith("Unavailable:", o.Error, StringComparison.Ordinal));
            Assert.All(result.Outcomes.Where(o => !o.Succeeded), o => Assert.True(o.CompletedAt > killedAt));
        }

        Assert.Equal(0, crossVersion);
        Assert.Equal(connectionsBefore, connectionsAfter);
    }

    /// <summary>The subchannels an order-app's channel created for the victim's address, and whether each was shut down (from Grpc.Net.Client's own log).</summary>
    private static List<(string Id, bool ShutDown)> VictimSubchannelsShutDown(GraySystem system, AppHost order, int port)
    {
        var entries = system.Logs.Entries.Where(e => e.Host == order.Name && e.Category.StartsWith("Grpc.Net.Client.Balancer", StringComparison.Ordinal)).ToList();
        var ids = entries
            .Where(e => e.Message.Contains(" created with addresses: ", StringComparison.Ordinal) && e.Message.Contains($"127.0.0.1:{port}", StringComparison.Ordinal))
            .Select(e => e.Message[(e.Message.IndexOf('\'', StringComparison.Ordinal) + 1)..e.Message.IndexOf('\'', e.Message.IndexOf('\'', StringComparison.Ordinal) + 1)])
            .Distinct()
            .ToList();
        return ids.Select(id => (id, entries.Any(e => e.Message.StartsWith($"Subchannel id '{id}' state changed to Shutdown", StringComparison.Ordinal)))).ToList();
    }
}
