using GrayRelease.ReliabilityTests.Infrastructure;
using GrayRelease.Testing;

namespace GrayRelease.ReliabilityTests.Scenarios;

/// <summary>
/// Scenario 1b: three lanes at once beside GRAY / PROD / ALL under load; every hop is served by the lane it belongs to
/// (the request's lane where the called service has an instance in it, the baseline elsewhere), never by another.
/// </summary>
public sealed class LaneIsolationTests(ITestOutputHelper output)
{
    private const string LaneDataId = "gateway-lanes.yaml";

    // lane-a: user-app only (a sandbox: the first hop is the baseline's, the second re-enters the lane);
    // lane-b: order-app and user-app; lane-c: order-app only (the second hop leaves the lane for the baseline).
    private static readonly string[] Lanes = ["lane-a", "lane-b", "lane-c"];

    [Fact]
    public async Task Three_lanes_beside_gray_prod_and_all_under_load_never_cross_lanes_on_any_hop()
    {
        using var bound = Suite.Bound(TimeSpan.FromSeconds(Suite.Long ? 600 : 180));
        var ct = bound.Token;
        await using var system = await GraySystem.StartAsync(null, ct);
        system.Publish(LaneDataId, GraySystem.GatewayConfig(enabled: true, extra:
        [
            "Lanes:",
            "  lane-a: { Priority: 10, HeaderName: x-lane, HeaderValue: lane-a }",
            "  lane-b: { Priority: 20, HeaderName: x-lane, HeaderValue: lane-b }",
            "  lane-c: { Priority: 30, HeaderName: x-lane, HeaderValue: lane-c }",
        ]));
        await system.StartStandardAsync(ct);
        await system.StartUserAsync("V3", ct, Lane("lane-a"));
        await system.StartOrderAsync("V3", ct, Lane("lane-b"));
        await system.StartUserAsync("V3", ct, Lane("lane-b"));
        await system.StartOrderAsync("V3", ct, Lane("lane-c"));
        await system.WaitRegisteredAsync("user-app", 4, ct);
        await system.WaitRegisteredAsync("order-app", 4, ct);
        var gatewayLanes = await system.StartGatewayAsync(LaneDataId, ct);
        var gatewayOff = await system.StartGatewayAsync(GraySystem.GatewayOffDataId, ct);
        using var lanes = GraySystem.ClientFor(gatewayLanes);
        using var off = GraySystem.ClientFor(gatewayOff);
        await Warmup.UntilRoutedAsync(lanes, ct);
        await Warmup.UntilRoutedAsync(off, ct);
        await Eventually.WaitUntilAsync(
            async () =>
            {
                // PROD and GRAY lane requests pass through different order-app instances: each must know the lanes.
                foreach (var lane in Lanes)
                {
                    foreach (var gray in (bool[])[false, true])
                    {
                        var outcome = await LoadRunner.SendAsync(lanes, InLane(0, lane, gray), ct);
                        if (outcome.OrderCrossLane || outcome.UserCrossLane || !outcome.Succeeded)
                        {
                            return false;
                        }
                    }
                }

                return true;
            },
            "every order-app sees the lane instances and the gateway its lane rules",
            cancellationToken: ct);

        var total = Suite.Long ? 50_000 : 10_000;
        var result = await LoadRunner.RunAsync(lanes, total, concurrency: 64, i => (i % 8) switch
        {
            0 => new LoadRequest($"/order/orders/{i}", Expect.Gray, [new("gray", GraySystem.GrayHeaderValue)]),
            1 => new LoadRequest($"/order/orders/{i}", Expect.Prod),
            // A client naming a lane (or gray) by itself is baseline production traffic: only the gateway's rules decide.
            2 => new LoadRequest($"/order/orders/{i}", Expect.Prod, [new("gray", "GRAY"), new("gray-lane", "lane-b")]),
            // Switch off: ALL, and no lane either, whatever the client sends.
            3 => new LoadRequest($"/order/orders/{i}", Expect.All, [new("x-lane", "lane-b")], Client: off),
            4 => InLane(i, "lane-a", gray: false),
            5 => InLane(i, "lane-b", gray: false),
            6 => InLane(i, "lane-c", gray: false),
            // GRAY and in a lane: the lane decides where it has instances, the gray version elsewhere.
            _ => InLane(i, Lanes[i / 8 % 3], gray: true),
        }, ct);

        output.WriteLine(result.Summary("lane isolation under load (3 lanes + GRAY + PROD + ALL, 64 in flight)"));
        var (orderCrossLane, userCrossLane) = result.CrossLaneHops;
        output.WriteLine($"cross-lane hops: order-app {orderCrossLane}, user-app {userCrossLane}");
        foreach (var group in result.Outcomes.GroupBy(o => $"{o.Expect,-4} expected {o.ExpectOrderLane ?? "baseline"} → {o.ExpectUserLane ?? "baseline"}").OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var served = group.GroupBy(o => $"{o.OrderVersion} {o.OrderLane ?? "baseline"} → {o.UserVersion} {o.UserLane ?? "baseline"}").OrderBy(g => g.Key, StringComparer.Ordinal);
            output.WriteLine($"  {group.Key}: {group.Count()} requests, served {string.Join("; ", served.Select(s => $"{s.Key} ×{s.Count()}"))}");
        }

        foreach (var problem in result.Problems())
        {
            output.WriteLine(problem);
        }

        var all = result.Outcomes.Where(o => o.Expect == Expect.All && o.Succeeded).ToList();
        Assert.Equal(total, result.Requests);
        Assert.Equal(0, result.Failures);
        Assert.Equal(0, result.CrossTalk);
        Assert.Equal((0, 0), result.CrossLaneHops);

        // Each lane was entered, and its instances served exactly the hops of its own services.
        foreach (var lane in Lanes)
        {
            Assert.Contains(result.Outcomes, o => o.OrderLane == lane || o.UserLane == lane);
        }

        // ALL still reaches every baseline version on both hops, and no lane instance.
        Assert.Equal(["V1", "V2"], all.Select(o => o.OrderVersion).Distinct().Order());
        Assert.Equal(["V1", "V2"], all.Select(o => o.UserVersion).Distinct().Order());
    }

    private static Dictionary<string, string?> Lane(string lane) => new() { ["GrayRelease:Lane"] = lane };

    /// <summary>A request entering <paramref name="lane"/> at the gateway: the lanes each hop must be served in follow from which services run in it.</summary>
    private static LoadRequest InLane(int i, string lane, bool gray)
    {
        var (orderLane, userLane) = lane switch
        {
            "lane-a" => (null, "lane-a"),
            "lane-b" => ("lane-b", "lane-b"),
            _ => ("lane-c", (string?)null),
        };
        List<KeyValuePair<string, string>> headers = [new("x-lane", lane)];
        if (gray)
        {
            headers.Add(new("gray", GraySystem.GrayHeaderValue));
        }

        return new LoadRequest($"/order/orders/{i}", gray ? Expect.Gray : Expect.Prod, headers, OrderLane: orderLane, UserLane: userLane);
    }
}
