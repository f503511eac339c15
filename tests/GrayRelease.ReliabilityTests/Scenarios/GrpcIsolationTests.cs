using GrayRelease.ReliabilityTests.Infrastructure;
using GrayRelease.Testing;

namespace GrayRelease.ReliabilityTests.Scenarios;

/// <summary>
/// Scenario 7 (issue 15): scenarios 1 / 1b over gRPC. Mixed GRAY / PROD / ALL / lane calls at high concurrency through
/// a two-hop gRPC chain (client → order-app → user-app, every hop picked per call by the <c>gray</c> policy, the
/// registry the Nacos emulator) never reach another version or lane on either hop.
/// </summary>
public sealed class GrpcIsolationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Mixed_grpc_calls_under_load_never_cross_versions_or_lanes_on_either_hop()
    {
        using var bound = Suite.Bound(TimeSpan.FromSeconds(Suite.Long ? 600 : 180));
        var ct = bound.Token;
        await using var system = await GraySystem.StartAsync(null, ct);

        // lane-a: user-app only (the first hop is the baseline's, the second enters the lane);
        // lane-b: order-app and user-app. Baseline: user-app and order-app V1 (prod) and V2 (gray).
        await system.StartGrpcUserAsync("V1", ct);
        await system.StartGrpcUserAsync("V2", ct);
        await system.StartGrpcUserAsync("V3", ct, lane: "lane-a");
        await system.StartGrpcUserAsync("V3", ct, lane: "lane-b");
        await system.StartGrpcOrderAsync("V1", ct);
        await system.StartGrpcOrderAsync("V2", ct);
        await system.StartGrpcOrderAsync("V3", ct, lane: "lane-b");
        await system.WaitRegisteredAsync("user-app", 4, ct);
        await system.WaitRegisteredAsync("order-app", 3, ct);
        var caller = await system.StartGrpcClientAsync(ct);
        var client = caller.OrderClient();

        // Every order-app has every user-app instance in its channel before the figures count.
        await Eventually.WaitUntilAsync(
            async () =>
            {
                for (var kind = 0; kind < Kinds; kind++)
                {
                    var outcome = await GrpcLoadRunner.SendAsync(client, Call(kind), kind);
                    if (!outcome.Succeeded || WrongOrderVersion(outcome) || WrongUserVersion(outcome) || outcome.OrderCrossLane || outcome.UserCrossLane)
                    {
                        return false;
                    }
                }

                return true;
            },
            "every kind of call is routed through the chain",
            cancellationToken: ct);

        var total = Suite.Long ? 50_000 : 10_000;
        const int concurrency = 32;
        var result = await GrpcLoadRunner.RunAsync(client, total, concurrency, Call, ct);

        var orderCrossVersion = result.Outcomes.Count(WrongOrderVersion);
        var userCrossVersion = result.Outcomes.Count(WrongUserVersion);
        var (orderCrossLane, userCrossLane) = result.CrossLaneHops;
        output.WriteLine(result.Summary($"gRPC isolation under load (GRAY / PROD / ALL / 2 lanes, {concurrency} in flight)"));
        output.WriteLine($"cross-version hops: order-app {orderCrossVersion}, user-app {userCrossVersion}; cross-lane hops: order-app {orderCrossLane}, user-app {userCrossLane}");
        foreach (var group in result.Outcomes.GroupBy(o => $"{o.Expect,-4} expected {o.ExpectOrderLane ?? "baseline"} → {o.ExpectUserLane ?? "baseline"}").OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var served = group.GroupBy(o => $"{o.OrderVersion} {o.OrderLane ?? "baseline"} → {o.UserVersion} {o.UserLane ?? "baseline"}").OrderBy(g => g.Key, StringComparer.Ordinal);
            output.WriteLine($"  {group.Key}: {group.Count()} calls, served {string.Join("; ", served.Select(s => $"{s.Key} ×{s.Count()}"))}");
        }

        foreach (var problem in result.Problems())
        {
            output.WriteLine(problem);
        }

        Assert.Equal(total, result.Requests);
        Assert.Equal(0, result.Failures);
        Assert.Equal(0, orderCrossVersion);
        Assert.Equal(0, userCrossVersion);
        Assert.Equal((0, 0), result.CrossLaneHops);

        // ALL really is "any baseline version" on both hops, and each lane was entered.
        var all = result.Outcomes.Where(o => o.Expect == Expect.All && o.Succeeded).ToList();
        Assert.Equal(["V1", "V2"], all.Select(o => o.OrderVersion).Distinct().Order());
        Assert.Equal(["V1", "V2"], all.Select(o => o.UserVersion).Distinct().Order());
        Assert.Contains(result.Outcomes, o => o.UserLane == "lane-a");
        Assert.Contains(result.Outcomes, o => o.OrderLane == "lane-b" && o.UserLane == "lane-b");
    }

    private const int Kinds = 7;

    private static GrpcCall Call(int i) => (i % Kinds) switch
    {
        0 => new GrpcCall(Expect.Gray, GrayStatus.Gray),
        1 => new GrpcCall(Expect.Prod, GrayStatus.Prod),
        2 => new GrpcCall(Expect.All, GrayStatus.All),
        3 => new GrpcCall(Expect.Prod, GrayStatus.Prod, "lane-a", UserLane: "lane-a"),
        4 => new GrpcCall(Expect.Prod, GrayStatus.Prod, "lane-b", OrderLane: "lane-b", UserLane: "lane-b"),
        // GRAY and in a lane: the lane decides where it has instances, the gray version elsewhere.
        5 => new GrpcCall(Expect.Gray, GrayStatus.Gray, "lane-a", UserLane: "lane-a"),
        _ => new GrpcCall(Expect.Gray, GrayStatus.Gray, "lane-b", OrderLane: "lane-b", UserLane: "lane-b"),
    };

    // Per hop, on a hop the baseline serves: GRAY served by anything but V2, PROD by anything but V1.
    internal static bool WrongOrderVersion(LoadOutcome outcome) => outcome.Succeeded && WrongVersion(outcome.Expect, outcome.OrderVersion, outcome.ExpectOrderLane);

    internal static bool WrongUserVersion(LoadOutcome outcome) => outcome.Succeeded && WrongVersion(outcome.Expect, outcome.UserVersion, outcome.ExpectUserLane);

    private static bool WrongVersion(Expect expect, string? version, string? expectedLane) => expectedLane is null && expect switch
    {
        Expect.Gray => version != "V2",
        Expect.Prod => version != "V1",
        _ => false,
    };
}
