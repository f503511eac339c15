using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace GrayRelease.Tests.Queued;

public class GrayTimerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_timer_created_in_a_gray_request_for_untagged_work_runs_every_tick_untagged()
    {
        var ticks = new TickRecorder(3);
        ITimer timer;
        using (GrayContext.Begin(GrayStatus.Gray))
        using (GrayContext.BeginLane("feature-a"))
        {
            timer = GrayTimer.Create(default, _ => ticks.Record(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(10));
        }

        await using (timer)
        {
            Assert.All(await ticks.Completed.WaitAsync(Timeout), tick => Assert.Equal((null, null), tick));
        }
    }

    [Fact]
    public async Task A_timer_created_untagged_runs_every_tick_in_the_snapshot_it_was_given()
    {
        GraySnapshot snapshot;
        using (GrayContext.Begin(GrayStatus.Gray))
        using (GrayContext.BeginLane("feature-a"))
        {
            snapshot = GrayContext.Capture();
        }

        var ticks = new TickRecorder(3);
        await using (GrayTimer.Create(snapshot, _ => ticks.Record(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(10)))
        {
            Assert.All(await ticks.Completed.WaitAsync(Timeout), tick => Assert.Equal((GrayStatus.Gray, "feature-a"), tick));
        }
    }

    [Fact]
    public async Task The_creators_Activity_does_not_flow_into_the_ticks()
    {
        var seen = new TaskCompletionSource<Activity?>(TaskCreationOptions.RunContinuationsAsynchronously);
        ITimer timer;
        using (var request = new Activity("request").Start())
        {
            timer = GrayTimer.Create(new GraySnapshot(GrayStatus.Gray), _ => seen.TrySetResult(Activity.Current), null, TimeSpan.Zero, System.Threading.Timeout.InfiniteTimeSpan);
        }

        await using (timer)
        {
            Assert.Null(await seen.Task.WaitAsync(Timeout));
        }
    }

    [Fact]
    public async Task Ticks_of_a_time_provider_that_runs_them_in_its_callers_flow_still_get_the_snapshot()
    {
        var time = new FakeTimeProvider();
        var ticks = new TickRecorder(2);
        using var timer = GrayTimer.Create(new GraySnapshot(GrayStatus.Gray), _ => ticks.Record(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), time);

        using (GrayContext.Begin(GrayStatus.Prod))
        {
            time.Advance(TimeSpan.FromSeconds(2));
            Assert.Equal(GrayStatus.Prod, GrayContext.Current);
        }

        Assert.True(ticks.Completed.IsCompletedSuccessfully);
        Assert.All(await ticks.Completed, tick => Assert.Equal((GrayStatus.Gray, null), tick));
    }

    [Fact]
    public async Task A_timer_can_be_created_where_flow_is_already_suppressed()
    {
        var ticks = new TickRecorder(1);
        ITimer timer;
        using (ExecutionContext.SuppressFlow())
        {
            timer = GrayTimer.Create(new GraySnapshot(GrayStatus.Prod), _ => ticks.Record(), null, TimeSpan.Zero, System.Threading.Timeout.InfiniteTimeSpan);
        }

        await using (timer)
        {
            Assert.Equal((GrayStatus.Prod, null), (await ticks.Completed.WaitAsync(Timeout))[0]);
        }
    }
}
