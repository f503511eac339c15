using System.Threading.Channels;

namespace GrayRelease.Tests.Queued;

public class GrayChannelTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static async Task WriteAsync(ChannelWriter<GrayItem<int>> writer, int id, GrayStatus? status, string? lane = null)
    {
        using (status is { } known ? GrayContext.Begin(known) : GrayContext.Suppress())
        using (lane is null ? default : GrayContext.BeginLane(lane))
        {
            await writer.WriteWithGrayContextAsync(id);
        }
    }

    /// <summary>Starts a consumer the way a hosted service's loop starts: in a context of its own, here <paramref name="own"/>.</summary>
    private static Task<List<(int Id, GrayStatus? Status, string? Lane, GrayStatus? AfterAwait)>> StartConsumer(ChannelReader<GrayItem<int>> reader, GrayStatus? own, List<GrayStatus?>? after = null)
    {
        using (own is { } known ? GrayContext.Begin(known) : GrayContext.Suppress())
        {
            return Task.Run(async () =>
            {
                var seen = new List<(int, GrayStatus?, string?, GrayStatus?)>();
                await foreach (var id in reader.ReadAllWithGrayContextAsync())
                {
                    var status = GrayContext.Current;
                    var lane = GrayContext.CurrentLane;
                    await Task.Yield();
                    var afterAwait = await Task.Run(() => GrayContext.Current);
                    seen.Add((id, status, lane, afterAwait));
                }

                after?.Add(GrayContext.Current);
                return seen;
            });
        }
    }

    [Fact]
    public async Task Each_item_is_handled_in_its_writers_context_and_an_untagged_item_after_a_tagged_one_stays_untagged()
    {
        var channel = GrayChannel.CreateUnbounded<int>();
        var after = new List<GrayStatus?>();
        var consumer = StartConsumer(channel.Reader, own: null, after);

        await WriteAsync(channel.Writer, 1, GrayStatus.Gray, "feature-a");
        await WriteAsync(channel.Writer, 2, status: null);
        await WriteAsync(channel.Writer, 3, GrayStatus.Prod);
        await WriteAsync(channel.Writer, 4, status: null);
        channel.Writer.Complete();

        Assert.Equal(
            [(1, GrayStatus.Gray, "feature-a", GrayStatus.Gray), (2, null, null, null), (3, GrayStatus.Prod, null, GrayStatus.Prod), (4, null, null, null)],
            await consumer.WaitAsync(Timeout));
        Assert.Equal([(GrayStatus?)null], after);
    }

    [Fact]
    public async Task A_consumer_with_a_tag_of_its_own_handles_untagged_items_untagged_and_gets_its_tag_back_after_the_loop()
    {
        var channel = GrayChannel.CreateUnbounded<int>();
        var after = new List<GrayStatus?>();
        var consumer = StartConsumer(channel.Reader, own: GrayStatus.Prod, after);

        await WriteAsync(channel.Writer, 1, GrayStatus.Gray);
        await WriteAsync(channel.Writer, 2, status: null);
        channel.Writer.Complete();

        Assert.Equal([(1, GrayStatus.Gray, null, GrayStatus.Gray), (2, null, null, null)], await consumer.WaitAsync(Timeout));
        Assert.Equal([(GrayStatus?)GrayStatus.Prod], after);
    }

    [Fact]
    public async Task Leaving_the_loop_early_ends_the_items_context()
    {
        var channel = GrayChannel.CreateUnbounded<int>();
        await WriteAsync(channel.Writer, 1, GrayStatus.Gray, "feature-a");

        await foreach (var id in channel.Reader.ReadAllWithGrayContextAsync())
        {
            Assert.Equal((1, GrayStatus.Gray, "feature-a"), (id, GrayContext.Current, GrayContext.CurrentLane));
            break;
        }

        Assert.Equal((null, null), (GrayContext.Current, GrayContext.CurrentLane));
    }

    [Fact]
    public async Task An_exception_in_the_loop_body_ends_the_items_context()
    {
        var channel = GrayChannel.CreateUnbounded<int>();
        await WriteAsync(channel.Writer, 1, GrayStatus.Gray);

        // In the test method's own flow, not a lambda: an async lambda's changes to the context would end with it.
        var thrown = false;
        try
        {
            await foreach (var _ in channel.Reader.ReadAllWithGrayContextAsync())
            {
                throw new InvalidOperationException("job failed");
            }
        }
        catch (InvalidOperationException)
        {
            thrown = true;
        }

        Assert.True(thrown);
        Assert.Null(GrayContext.Current);
    }

    [Fact]
    public async Task Either_cancellation_token_ends_a_waiting_loop()
    {
        var channel = GrayChannel.CreateUnbounded<int>();
        using var given = new CancellationTokenSource();
        using var withCancellation = new CancellationTokenSource();

        async Task Drain(CancellationToken method, CancellationToken enumerator)
        {
            await foreach (var _ in channel.Reader.ReadAllWithGrayContextAsync(method).WithCancellation(enumerator))
            {
            }
        }

        var first = Drain(given.Token, default);
        var second = Drain(default, withCancellation.Token);
        given.Cancel();
        withCancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.WaitAsync(Timeout));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_bounded_channel_written_with_TryWrite_carries_the_context_and_a_manual_reader_restores_it()
    {
        var channel = GrayChannel.CreateBounded<int>(new BoundedChannelOptions(2));
        using (GrayContext.Begin(GrayStatus.Gray))
        {
            Assert.True(channel.Writer.TryWriteWithGrayContext(1));
            Assert.True(channel.Writer.TryWriteWithGrayContext(2));
            Assert.False(channel.Writer.TryWriteWithGrayContext(3));
        }

        Assert.True(channel.Reader.TryRead(out var item));
        Assert.Equal((1, new GraySnapshot(GrayStatus.Gray)), (item.Value, item.Context));
        using (item.Restore())
        {
            Assert.Equal(GrayStatus.Gray, GrayContext.Current);
        }

        Assert.Null(GrayContext.Current);
    }

    [Fact]
    public async Task Reading_through_the_helper_allocates_per_item_no_more_than_restoring_each_item_by_hand()
    {
        const int items = 200;

        // Every item is in the channel before the loop starts, so each read completes synchronously on this thread.
        static async Task<long> Drain(bool helper)
        {
            var channel = GrayChannel.CreateUnbounded<int>();
            using (GrayContext.Begin(GrayStatus.Gray))
            using (GrayContext.BeginLane("feature-a"))
            {
                for (var i = 0; i < items; i++)
                {
                    channel.Writer.TryWriteWithGrayContext(i);
                }
            }

            channel.Writer.Complete();
            var thread = Environment.CurrentManagedThreadId;
            var before = GC.GetAllocatedBytesForCurrentThread();
            if (helper)
            {
                await foreach (var _ in channel.Reader.ReadAllWithGrayContextAsync())
                {
                }
            }
            else
            {
                await foreach (var item in channel.Reader.ReadAllAsync())
                {
                    using (item.Restore())
                    {
                    }
                }
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(thread, Environment.CurrentManagedThreadId);
            return allocated;
        }

        await Drain(helper: true);
        await Drain(helper: false);
        var byHand = await Drain(helper: false);
        var withHelper = await Drain(helper: true);

        // The helper's own cost is its enumerable and enumerator, once per loop (well under 200 B), nothing per item.
        Assert.InRange(withHelper - byHand, 0, 200);
    }

    [Fact]
    public void GrayItem_Capture_takes_the_current_status_and_lane()
    {
        Assert.Equal(default, GrayItem.Capture("job").Context);
        using (GrayContext.Begin(GrayStatus.Prod))
        using (GrayContext.BeginLane("feature-b"))
        {
            var item = GrayItem.Capture("job");
            Assert.Equal(("job", GrayStatus.Prod, "feature-b"), (item.Value, item.Context.Status, item.Context.Lane));
        }
    }
}
