using System.Threading.Channels;

namespace GrayRelease.Tests.Context;

public class GrayContextTests
{
    [Fact]
    public void Begin_sets_status_and_dispose_restores_previous()
    {
        Assert.Null(GrayContext.Current);
        using (GrayContext.Begin(GrayStatus.Prod))
        {
            Assert.Equal(GrayStatus.Prod, GrayContext.Current);
            using (GrayContext.Begin(GrayStatus.Gray))
            {
                Assert.Equal(GrayStatus.Gray, GrayContext.Current);
            }

            Assert.Equal(GrayStatus.Prod, GrayContext.Current);
        }

        Assert.Null(GrayContext.Current);
    }

    [Fact]
    public void Scopes_disposed_out_of_order_leave_no_stale_status()
    {
        var outer = GrayContext.Begin(GrayStatus.Gray);
        var inner = GrayContext.Begin(GrayStatus.Prod);

        // The outer scope ends first: its work is over, and so is everything begun inside it.
        outer.Dispose();
        Assert.Null(GrayContext.Current);
        inner.Dispose();
        Assert.Null(GrayContext.Current);
    }

    [Fact]
    public void A_scope_disposed_twice_does_not_end_a_later_scope()
    {
        var first = GrayContext.Begin(GrayStatus.Gray);
        first.Dispose();
        using (GrayContext.Begin(GrayStatus.Prod))
        {
            first.Dispose();
            Assert.Equal(GrayStatus.Prod, GrayContext.Current);
        }

        Assert.Null(GrayContext.Current);
    }

    [Fact]
    public void A_prepared_lane_frame_is_entered_without_allocating_a_frame()
    {
        var prepared = GrayFrame.Prepare(GrayStatus.Gray, "feature-a");
        // Warm up both (first calls initialise lazily).
        GrayContext.Enter(prepared).Dispose();
        GrayContext.Begin(GrayStatus.Gray).Dispose();

        // One AsyncLocal write (a new ExecutionContext) is what entering may cost; a frame per request would add to it.
        var caller = ExecutionContext.Capture()!;
        var before = GC.GetAllocatedBytesForCurrentThread();
        _ = GrayContext.Begin(GrayStatus.Gray);
        var oneWrite = GC.GetAllocatedBytesForCurrentThread() - before;
        ExecutionContext.Restore(caller);

        before = GC.GetAllocatedBytesForCurrentThread();
        var scope = GrayContext.Enter(prepared);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(oneWrite, allocated);
        Assert.Equal((GrayStatus.Gray, "feature-a"), (GrayContext.Current, GrayContext.CurrentLane));
        scope.Dispose();
        Assert.Equal((null, null), (GrayContext.Current, GrayContext.CurrentLane));
    }

    [Fact]
    public void A_prepared_frame_entered_inside_a_scope_restores_that_scope_and_keeps_its_lane_when_it_has_none()
    {
        using (GrayContext.BeginLane("feature-b"))
        {
            using (GrayContext.Enter(GrayFrame.Prepare(GrayStatus.Prod, lane: null)))
            {
                Assert.Equal((GrayStatus.Prod, "feature-b"), (GrayContext.Current, GrayContext.CurrentLane));
                using (GrayContext.Enter(GrayFrame.Prepare(GrayStatus.Gray, "feature-a")))
                {
                    Assert.Equal((GrayStatus.Gray, "feature-a"), (GrayContext.Current, GrayContext.CurrentLane));
                }

                Assert.Equal((GrayStatus.Prod, "feature-b"), (GrayContext.Current, GrayContext.CurrentLane));
            }

            Assert.Equal(((GrayStatus?)null, "feature-b"), (GrayContext.Current, GrayContext.CurrentLane));
        }

        Assert.Equal((null, null), (GrayContext.Current, GrayContext.CurrentLane));
    }

    [Fact]
    public async Task Status_flows_across_await_and_Task_Run()
    {
        using var scope = GrayContext.Begin(GrayStatus.Gray);
        await Task.Yield();
        Assert.Equal(GrayStatus.Gray, GrayContext.Current);
        var seenInTaskRun = await Task.Run(() => GrayContext.Current);
        Assert.Equal(GrayStatus.Gray, seenInTaskRun);
    }

    [Fact]
    public async Task Status_set_inside_an_awaited_method_does_not_leak_to_the_caller()
    {
        static async Task SetInside()
        {
            GrayContext.Begin(GrayStatus.Gray); // deliberately not disposed
            await Task.Yield();
        }

        await SetInside();
        Assert.Null(GrayContext.Current);
    }

    [Fact]
    public void Suppress_clears_the_status_until_disposed()
    {
        using var outer = GrayContext.Begin(GrayStatus.Gray);
        using (GrayContext.Suppress())
        {
            Assert.Null(GrayContext.Current);
        }

        Assert.Equal(GrayStatus.Gray, GrayContext.Current);
    }

    [Fact]
    public async Task RunUntagged_starts_work_that_does_not_inherit_the_tag()
    {
        using var scope = GrayContext.Begin(GrayStatus.Gray);
        GrayStatus? seen = GrayStatus.All;
        await GrayContext.RunUntagged(() =>
        {
            seen = GrayContext.Current;
            return Task.CompletedTask;
        });

        Assert.Null(seen);
        Assert.Equal(GrayStatus.Gray, GrayContext.Current);
    }

    [Fact]
    public async Task Captured_status_is_restored_in_work_started_outside_the_request()
    {
        // A background consumer started before any request: AsyncLocal alone would give it no status.
        var queue = Channel.CreateUnbounded<(int Id, GraySnapshot Snapshot)>();
        var results = new Dictionary<int, (GrayStatus? WithoutRestore, GrayStatus? Restored)>();
        Task consumer;
        using (GrayContext.Suppress())
        {
            consumer = Task.Run(async () =>
            {
                await foreach (var (id, snapshot) in queue.Reader.ReadAllAsync())
                {
                    var without = GrayContext.Current;
                    using (snapshot.Restore())
                    {
                        results[id] = (without, GrayContext.Current);
                    }
                }
            });
        }

        foreach (var (id, status) in new[] { (1, GrayStatus.Gray), (2, GrayStatus.Prod) })
        {
            using (GrayContext.Begin(status))
            {
                await queue.Writer.WriteAsync((id, GrayContext.Capture()));
            }
        }

        queue.Writer.Complete();
        await consumer.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal((null, GrayStatus.Gray), results[1]);
        Assert.Equal((null, GrayStatus.Prod), results[2]);
    }

    [Fact]
    public async Task Thousand_concurrent_flows_each_see_only_their_own_status()
    {
        const int flows = 1_000;
        var statuses = new GrayStatus?[] { null, GrayStatus.All, GrayStatus.Prod, GrayStatus.Gray };
        var random = new Random(1234);
        var wanted = Enumerable.Range(0, flows).Select(_ => statuses[random.Next(statuses.Length)]).ToArray();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var mismatches = 0;

        async Task Flow(int index)
        {
            var status = wanted[index];
            using (status is { } s ? GrayContext.Begin(s) : GrayContext.Suppress())
            {
                await start.Task;
                for (var step = 0; step < 5; step++)
                {
                    await Task.Yield();
                    if (GrayContext.Current != status)
                    {
                        Interlocked.Increment(ref mismatches);
                    }

                    var inner = await Task.Run(() => GrayContext.Current);
                    if (inner != status)
                    {
                        Interlocked.Increment(ref mismatches);
                    }

                    var snapshot = GrayContext.Capture();
                    var restored = await Task.Run(() =>
                    {
                        using (GrayContext.Suppress())
                        using (snapshot.Restore())
                        {
                            return GrayContext.Current;
                        }
                    });
                    if (restored != status)
                    {
                        Interlocked.Increment(ref mismatches);
                    }
                }
            }
        }

        var all = Enumerable.Range(0, flows).Select(i => Task.Run(() => Flow(i))).ToArray();
        start.SetResult();
        await Task.WhenAll(all).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, mismatches);
        Assert.Null(GrayContext.Current);
    }
}
