using System.Diagnostics;
using System.Text.Json;
using GrayRelease.Nacos.Emulator;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GrayRelease.Rollouts.Tests;

/// <summary>
/// The rollout engine on a test clock: every tick is called by the test, so lease expiry, intervals and the order of
/// two gateways' moves are exact. Nacos is the emulator (2 line, v1 HTTP) over real loopback HTTP.
/// </summary>
public sealed class EngineTests : IAsyncLifetime
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 8, 0, 0, TimeSpan.Zero));
    private readonly List<RolloutRig> _rigs = [];
    private NacosEmulator _nacos = null!;

    public async Task InitializeAsync() => _nacos = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2 });

    public async Task DisposeAsync()
    {
        foreach (var rig in _rigs)
        {
            await rig.DisposeAsync();
        }

        await _nacos.DisposeAsync();
    }

    [Fact]
    public async Task The_first_gateway_takes_the_lease_starts_the_rollout_and_the_other_follows()
    {
        var a = Rig("gw-a");
        var b = Rig("gw-b");

        await a.TickAsync();
        await b.TickAsync();

        Assert.True(a.Snapshot.IsLeader);
        Assert.False(b.Snapshot.IsLeader);
        Assert.Equal("gw-a", b.Snapshot.Leader);
        var state = RolloutRig.State(_nacos)!;
        Assert.Equal((RolloutStatus.Progressing, 0, "V2", "V1"), (state.Status, state.Step, state.GrayVersion, state.ProdVersion));
        Assert.Equal(10, a.GatewayPercentage);
        Assert.Equal(10, b.GatewayPercentage);
        Assert.Contains(a.Logs.GetSnapshot(), r => r.Id.Id == RolloutEventIds.Transition && r.Message.Contains("rollout of V2 over V1 started", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_renewed_lease_is_never_taken_over()
    {
        var a = Rig("gw-a");
        var b = Rig("gw-b");
        await a.TickAsync();

        for (var i = 0; i < 24; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            await a.TickAsync();
            await b.TickAsync();
            Assert.True(a.Snapshot.IsLeader);
            Assert.False(b.Snapshot.IsLeader);
        }

        Assert.Equal(1, RolloutRig.Lease(_nacos)!.Term);
    }

    [Fact]
    public async Task A_lease_left_unrenewed_is_taken_over_after_the_lease_time_and_the_rollout_goes_on()
    {
        var a = Rig("gw-a");
        var b = Rig("gw-b");
        await a.TickAsync();
        await b.TickAsync();

        // a stops (crashed: no release). b has seen the lease unchanged for less than the lease time: it waits.
        _time.Advance(Lease - TimeSpan.FromSeconds(1));
        await b.TickAsync();
        Assert.False(b.Snapshot.IsLeader);

        _time.Advance(TimeSpan.FromSeconds(1));
        await b.TickAsync();
        Assert.True(b.Snapshot.IsLeader);
        Assert.Equal(("gw-b", 2L), (RolloutRig.Lease(_nacos)!.Holder, RolloutRig.Lease(_nacos)!.Term));

        // a, back, knows it has not renewed for half the lease: it is not the leader, and sees b's lease.
        await a.TickAsync();
        Assert.False(a.Snapshot.IsLeader);

        await PassIntervalAsync(b);
        var state = RolloutRig.State(_nacos)!;
        Assert.Equal(1, state.Step);
        Assert.Equal("gw-b", state.History[^1].By);
    }

    [Fact]
    public async Task A_restarted_gateway_resumes_the_rollout_where_it_was()
    {
        var a = Rig("gw-a");
        await a.TickAsync();
        await PassIntervalAsync(a);
        _rigs.Remove(a);
        await a.DisposeAsync();

        var restarted = Rig("gw-a-restarted");
        await restarted.TickAsync();

        Assert.Equal((RolloutStatus.Progressing, 1), (restarted.Snapshot.Status, restarted.Snapshot.Step));
        Assert.Equal(50, restarted.GatewayPercentage);
        _time.Advance(Lease);
        await restarted.TickAsync();
        await restarted.TickAsync();
        Assert.True(restarted.Snapshot.IsLeader);
        await PassIntervalAsync(restarted);
        Assert.Equal(RolloutStatus.Promoted, RolloutRig.State(_nacos)!.Status);
    }

    [Fact]
    public async Task A_released_lease_is_taken_at_the_next_tick()
    {
        var a = Rig("gw-a");
        var b = Rig("gw-b");
        await a.TickAsync();
        await b.TickAsync();

        a.Engine.ReleaseLeaseOnStop = true;
        await a.Engine.StopAsync(CancellationToken.None);
        await b.TickAsync();

        Assert.True(b.Snapshot.IsLeader);
    }

    [Fact]
    public async Task Each_passing_interval_advances_one_step_and_passing_the_last_below_100_promotes()
    {
        var a = Rig("gw-a");
        var b = Rig("gw-b");
        await a.TickAsync();

        await PassIntervalAsync(a);
        await b.TickAsync();
        Assert.Equal((1, 50.0, 50.0), (RolloutRig.State(_nacos)!.Step, a.GatewayPercentage, b.GatewayPercentage));

        await PassIntervalAsync(a);
        await PassIntervalAsync(a);

        var state = RolloutRig.State(_nacos)!;
        Assert.Equal(RolloutStatus.Promoted, state.Status);
        Assert.Equal(
            ["Progressing 0 -> Progressing 0", "Progressing 0 -> Progressing 1", "Progressing 1 -> Promoted 2"],
            state.History.Select(h => $"{h.From} {h.FromStep} -> {h.To} {h.ToStep}"));
        Assert.All(state.History, h => Assert.Equal("gw-a", h.By));
        Assert.Contains("svc: gray V2 0/100 errors", state.History[^1].Figures, StringComparison.Ordinal);
        await b.TickAsync();
        Assert.Equal(100, b.GatewayPercentage);
    }

    [Fact]
    public async Task Promotion_can_publish_the_gray_version_as_prod_version()
    {
        _nacos.PublishConfig("versions.json", "DEFAULT_GROUP", "{\"GrayRelease\":{\"ProdVersion\":\"V1\",\"GrayVersion\":\"V2\"},\"Other\":1}", type: "json");
        var a = Rig("gw-a", new() { ["GrayRelease:Gateway:Rollout:Promotion"] = "PublishProdVersion", ["GrayRelease:Gateway:Rollout:PromotionDataId"] = "versions.json" });
        await a.TickAsync();

        await PassIntervalAsync(a);
        await PassIntervalAsync(a);
        await PassIntervalAsync(a);

        Assert.Equal(RolloutStatus.Promoted, RolloutRig.State(_nacos)!.Status);
        using var versions = JsonDocument.Parse(_nacos.GetConfig("versions.json", "DEFAULT_GROUP")!);
        Assert.Equal("V2", versions.RootElement.GetProperty("GrayRelease").GetProperty("ProdVersion").GetString());
        Assert.Equal(1, versions.RootElement.GetProperty("Other").GetInt32());
    }

    [Fact]
    public async Task Failed_intervals_up_to_the_threshold_roll_back_to_zero_percent()
    {
        var a = Rig("gw-rollback");
        using var transitions = new MetricCollector<long>(a.MeterFactory, TrafficObserver.MeterName, "grayrelease.rollout.transitions");
        var events = new List<ActivityEvent>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == TrafficObserver.MeterName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                lock (events)
                {
                    events.AddRange(activity.Events.Where(e => e.Tags.Any(t => t.Key == "grayrelease.rollout.by" && (string?)t.Value == "gw-rollback")));
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        var b = Rig("gw-b");
        await a.TickAsync();
        await a.TickAsync();

        a.Traffic("V2", 100, errors: 10);
        a.Traffic("V1", 900);
        _time.Advance(Interval);
        await a.TickAsync();
        var afterOne = RolloutRig.State(_nacos)!;
        Assert.Equal((RolloutStatus.Progressing, 0, 1, "Fail"), (afterOne.Status, afterOne.Step, afterOne.FailedIntervals, afterOne.LastVerdict!.Outcome));

        a.Traffic("V2", 100, errors: 10);
        a.Traffic("V1", 900);
        _time.Advance(Interval);
        await a.TickAsync();
        await b.TickAsync();

        var state = RolloutRig.State(_nacos)!;
        Assert.Equal(RolloutStatus.RolledBack, state.Status);
        Assert.Contains("2 consecutive failed interval(s), threshold 2", state.History[^1].Reason, StringComparison.Ordinal);
        Assert.Contains("error rate 10.00 % gray vs 0.00 % prod", state.History[^1].Reason, StringComparison.Ordinal);
        Assert.Equal((0.0, 0.0), (a.GatewayPercentage, b.GatewayPercentage));
        Assert.Contains(a.Logs.GetSnapshot(), r => r.Id.Id == RolloutEventIds.Transition && r.Message.Contains("-> RolledBack", StringComparison.Ordinal) && r.Message.Contains("errors", StringComparison.Ordinal));
        Assert.Contains(transitions.GetMeasurementSnapshot(), m => (string?)m.Tags["grayrelease.rollout.to"] == "RolledBack");
        lock (events)
        {
            Assert.Contains(events, e => e.Tags.Any(t => t.Key == "grayrelease.rollout.to" && (string?)t.Value == "RolledBack"));
        }
    }

    [Fact]
    public async Task An_inconclusive_interval_neither_advances_nor_counts_as_failed()
    {
        var a = Rig("gw-a");
        await a.TickAsync();
        await a.TickAsync();

        a.Traffic("V2", 10, errors: 5);
        a.Traffic("V1", 900);
        _time.Advance(Interval);
        await a.TickAsync();

        var state = RolloutRig.State(_nacos)!;
        Assert.Equal((RolloutStatus.Progressing, 0, 0, "Inconclusive"), (state.Status, state.Step, state.FailedIntervals, state.LastVerdict!.Outcome));
    }

    [Fact]
    public async Task A_write_based_on_a_state_that_changed_since_it_was_read_is_refused()
    {
        var a = Rig("gw-a");
        await a.TickAsync();
        var read = RolloutRig.State(_nacos)!;
        var paused = read.Clone();
        paused.Status = RolloutStatus.Paused;
        _nacos.PublishConfig("grayrelease-rollout.json", "DEFAULT_GROUP", JsonSerializer.Serialize(paused, RolloutJsonContext.Default.RolloutStateDocument), type: "json");

        var next = read.Clone();
        var written = await a.Engine.WriteTransitionAsync(Options(a), read, next, RolloutStatus.Progressing, 1, "stale", null, "gw-a", CancellationToken.None);

        Assert.False(written);
        Assert.Equal(RolloutStatus.Paused, RolloutRig.State(_nacos)!.Status);
    }

    [Fact]
    public async Task An_operator_edit_of_the_dataId_is_followed_and_a_paused_rollout_is_not_judged()
    {
        var a = Rig("gw-a");
        await a.TickAsync();
        var paused = RolloutRig.State(_nacos)!;
        paused.Status = RolloutStatus.Paused;
        paused.Step = 1;
        _nacos.PublishConfig("grayrelease-rollout.json", "DEFAULT_GROUP", JsonSerializer.Serialize(paused, RolloutJsonContext.Default.RolloutStateDocument), type: "json");

        await PassIntervalAsync(a);
        await PassIntervalAsync(a);

        var state = RolloutRig.State(_nacos)!;
        Assert.Equal((RolloutStatus.Paused, 1), (state.Status, state.Step));
        Assert.Equal(50, a.GatewayPercentage);
    }

    [Fact]
    public async Task A_state_that_does_not_parse_is_logged_and_left_alone_and_the_percentage_holds()
    {
        var a = Rig("gw-a");
        await a.TickAsync();
        await PassIntervalAsync(a);
        _nacos.PublishConfig("grayrelease-rollout.json", "DEFAULT_GROUP", "{ not json", type: "json");

        await a.TickAsync();
        Assert.Equal(50, a.GatewayPercentage);
        Assert.Contains(a.Logs.GetSnapshot(), r => r.Id.Id == RolloutEventIds.StateInvalid);

        // A gateway that never saw a valid state takes the lease over: it must not replace the edit with a new rollout.
        _rigs.Remove(a);
        await a.DisposeAsync();
        var fresh = Rig("gw-fresh");
        await fresh.TickAsync();
        _time.Advance(Lease);
        await fresh.TickAsync();
        await fresh.TickAsync();

        Assert.True(fresh.Snapshot.IsLeader);
        Assert.Equal("{ not json", _nacos.GetConfig("grayrelease-rollout.json", "DEFAULT_GROUP"));
    }

    [Fact]
    public async Task Commands_pause_resume_and_abort_from_any_gateway_and_nothing_after_a_rollback()
    {
        var a = Rig("gw-a");
        var b = Rig("gw-b");
        await a.TickAsync();
        await b.TickAsync();

        Assert.Equal(RolloutCommandOutcome.Done, (await b.Engine.ExecuteAsync(RolloutCommand.Pause, "operator tester", CancellationToken.None)).Outcome);
        Assert.Equal(RolloutStatus.Paused, RolloutRig.State(_nacos)!.Status);
        Assert.Equal(RolloutCommandOutcome.NotAllowed, (await b.Engine.ExecuteAsync(RolloutCommand.Pause, "operator tester", CancellationToken.None)).Outcome);
        Assert.Equal(RolloutCommandOutcome.Done, (await a.Engine.ExecuteAsync(RolloutCommand.Resume, "operator tester", CancellationToken.None)).Outcome);
        Assert.Equal(RolloutCommandOutcome.Done, (await b.Engine.ExecuteAsync(RolloutCommand.Abort, "operator tester", CancellationToken.None)).Outcome);
        await a.TickAsync();
        Assert.Equal((RolloutStatus.RolledBack, 0.0), (a.Snapshot.Status, a.GatewayPercentage));

        // A rolled-back release is not promoted without being tried again (a new gray version, or the state deleted),
        // as Argo Rollouts keeps an aborted rollout aborted until it is retried; nor is anything else done to it.
        foreach (var command in new[] { RolloutCommand.Promote, RolloutCommand.Pause, RolloutCommand.Resume, RolloutCommand.Abort })
        {
            var refused = await b.Engine.ExecuteAsync(command, "operator tester", CancellationToken.None);
            Assert.Equal(RolloutCommandOutcome.NotAllowed, refused.Outcome);
            Assert.Contains("RolledBack", refused.Message, StringComparison.Ordinal);
        }

        await a.TickAsync();
        Assert.Equal((RolloutStatus.RolledBack, 0.0), (a.Snapshot.Status, a.GatewayPercentage));

        var reasons = RolloutRig.State(_nacos)!.History.Select(h => h.Reason).ToList();
        Assert.Equal(["PAUSE by operator tester", "RESUME by operator tester", "ABORT by operator tester"], reasons.Skip(1));
    }

    [Fact]
    public async Task Nacos_unreachable_holds_the_rollout_and_the_interval_starts_over_when_it_is_back()
    {
        var a = Rig("gw-a");
        await a.TickAsync();
        await a.TickAsync();
        a.Traffic("V2", 100);
        a.Traffic("V1", 900);

        await _nacos.StopAsync();
        _time.Advance(Interval * 3);
        await a.TickAsync();

        Assert.True(a.Snapshot.NacosUnreachable);
        Assert.False(a.Snapshot.IsLeader);
        Assert.Equal(10, a.GatewayPercentage);
        Assert.Contains(a.Logs.GetSnapshot(), r => r.Id.Id == RolloutEventIds.NacosUnreachable);

        await _nacos.RestartAsync();
        await a.TickAsync();
        await a.TickAsync();
        Assert.False(a.Snapshot.NacosUnreachable);
        Assert.Equal(0, RolloutRig.State(_nacos)!.Step);

        // The traffic counted before and during the outage does not count: a fresh interval must pass first.
        a.Traffic("V2", 100);
        a.Traffic("V1", 900);
        _time.Advance(Interval - TimeSpan.FromSeconds(1));
        await a.TickAsync();
        Assert.Equal(0, RolloutRig.State(_nacos)!.Step);
        _time.Advance(TimeSpan.FromSeconds(1));
        await a.TickAsync();
        Assert.Equal(1, RolloutRig.State(_nacos)!.Step);
    }

    [Fact]
    public async Task A_new_gray_version_starts_a_new_rollout()
    {
        var a = Rig("gw-a");
        await a.TickAsync();
        await PassIntervalAsync(a);

        a.Configuration["GrayRelease:GrayVersion"] = "V3";
        a.Configuration.Reload();
        await a.TickAsync();

        var state = RolloutRig.State(_nacos)!;
        Assert.Equal(("V3", 0, RolloutStatus.Progressing), (state.GrayVersion, state.Step, state.Status));
        Assert.Contains("gray version changed from V2 to V3", state.History[^1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_new_gray_version_after_a_promotion_gets_no_percentage_until_its_own_rollout_starts()
    {
        var a = Rig("gw-a");
        var b = Rig("gw-b");
        await a.TickAsync();
        await b.TickAsync();
        Assert.Equal(RolloutCommandOutcome.Done, (await a.Engine.ExecuteAsync(RolloutCommand.Promote, "operator tester", CancellationToken.None)).Outcome);
        await a.TickAsync();
        await b.TickAsync();
        Assert.Equal((100.0, 100.0), (a.GatewayPercentage, b.GatewayPercentage));

        // No tick in between: the promoted 100 % belonged to V2, never to the unjudged V3, on the leader and the follower.
        foreach (var rig in new[] { a, b })
        {
            rig.Configuration["GrayRelease:GrayVersion"] = "V3";
            rig.Configuration.Reload();
        }

        Assert.Equal((0.0, 0.0), (a.GatewayPercentage, b.GatewayPercentage));

        await a.TickAsync();
        await b.TickAsync();
        Assert.Equal(("V3", 0), (RolloutRig.State(_nacos)!.GrayVersion, RolloutRig.State(_nacos)!.Step));
        Assert.Equal((10.0, 10.0), (a.GatewayPercentage, b.GatewayPercentage));
    }

    [Fact]
    public async Task Steps_changed_in_configuration_apply_at_the_next_tick_and_a_bad_change_is_refused()
    {
        var a = Rig("gw-a");
        await a.TickAsync();
        Assert.Equal(10, a.GatewayPercentage);

        a.Configuration["GrayRelease:Gateway:Rollout:Steps:0"] = "20";
        a.Configuration.Reload();
        await a.TickAsync();
        Assert.Equal(20, a.GatewayPercentage);

        a.Configuration["GrayRelease:Gateway:Rollout:Steps:0"] = "70";
        a.Configuration.Reload();
        await a.TickAsync();
        Assert.Equal(20, a.GatewayPercentage);
    }

    private RolloutRig Rig(string id, Dictionary<string, string?>? overrides = null)
    {
        var rig = RolloutRig.Create(_nacos, _time, id, overrides);
        _rigs.Add(rig);
        return rig;
    }

    private static RolloutOptions Options(RolloutRig rig) =>
        Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<RolloutOptions>>(rig.EngineServices).CurrentValue;

    /// <summary>A tick that starts the interval, healthy traffic on both sides, the interval's time, and the judging tick.</summary>
    private async Task PassIntervalAsync(RolloutRig leader)
    {
        await leader.TickAsync();
        leader.Traffic("V2", 100);
        leader.Traffic("V1", 900);
        _time.Advance(Interval);
        await leader.TickAsync();
    }
}
