using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Tests.Queued;

/// <summary>
/// What .NET itself does with the gray tag in work queued in-process (docs/queued-work.md states these facts): the
/// tag is an AsyncLocal, so it travels with the ExecutionContext, which each mechanism captures at a different moment.
/// </summary>
public class ContextFlowFactsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Task_Run_carries_the_tag_of_the_code_that_started_it_even_after_its_scope_ended()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<(GrayStatus?, string?)> work;
        using (GrayContext.Begin(GrayStatus.Gray))
        using (GrayContext.BeginLane("feature-a"))
        {
            work = Task.Run(async () =>
            {
                await release.Task;
                return (GrayContext.Current, GrayContext.CurrentLane);
            });
        }

        release.SetResult();
        Assert.Equal((GrayStatus.Gray, "feature-a"), await work.WaitAsync(Timeout));
    }

    [Fact]
    public async Task QueueUserWorkItem_carries_the_tag_and_UnsafeQueueUserWorkItem_does_not()
    {
        var safe = new TaskCompletionSource<GrayStatus?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var unsafeQueued = new TaskCompletionSource<GrayStatus?>(TaskCreationOptions.RunContinuationsAsynchronously);
        using (GrayContext.Begin(GrayStatus.Gray))
        {
            ThreadPool.QueueUserWorkItem(_ => safe.SetResult(GrayContext.Current));
            ThreadPool.UnsafeQueueUserWorkItem(_ => unsafeQueued.SetResult(GrayContext.Current), null);
        }

        Assert.Equal(GrayStatus.Gray, await safe.Task.WaitAsync(Timeout));
        Assert.Null(await unsafeQueued.Task.WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_timer_created_in_a_tagged_scope_runs_every_later_tick_with_that_tag()
    {
        // The trap the other way: a cache refresh started by the first (gray) request stays gray for the process's life.
        var ticks = new TickRecorder(3);
        Timer timer;
        using (GrayContext.Begin(GrayStatus.Gray))
        {
            timer = new Timer(_ => ticks.Record(), null, System.Threading.Timeout.Infinite, System.Threading.Timeout.Infinite);
        }

        await using (timer)
        {
            Assert.Null(GrayContext.Current);
            timer.Change(TimeSpan.Zero, TimeSpan.FromMilliseconds(10));
            var seen = await ticks.Completed.WaitAsync(Timeout);
            Assert.All(seen, tick => Assert.Equal(GrayStatus.Gray, tick.Status));
        }
    }

    [Fact]
    public async Task A_timer_created_inside_GrayContext_Suppress_runs_untagged()
    {
        var ticks = new TickRecorder(3);
        Timer timer;
        using (GrayContext.Begin(GrayStatus.Gray))
        using (GrayContext.Suppress())
        {
            timer = new Timer(_ => ticks.Record(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(10));
        }

        await using (timer)
        {
            var seen = await ticks.Completed.WaitAsync(Timeout);
            Assert.All(seen, tick => Assert.Null(tick.Status));
        }
    }

    [Fact]
    public async Task A_PeriodicTimer_loop_runs_in_the_context_of_the_code_that_started_the_loop_not_where_the_timer_was_made()
    {
        PeriodicTimer madeInGray;
        using (GrayContext.Begin(GrayStatus.Gray))
        {
            madeInGray = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        }

        using var madeUntagged = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        static async Task<List<GrayStatus?>> Loop(PeriodicTimer timer)
        {
            var seen = new List<GrayStatus?>();
            while (seen.Count < 3 && await timer.WaitForNextTickAsync())
            {
                seen.Add(GrayContext.Current);
            }

            return seen;
        }

        Task<List<GrayStatus?>> loopStartedInProd;
        using (GrayContext.Begin(GrayStatus.Prod))
        {
            loopStartedInProd = Task.Run(() => Loop(madeUntagged));
        }

        using (madeInGray)
        {
            // The await resumes in the awaiting method's context; the timer's own creation context plays no part.
            Assert.All(await Loop(madeInGray).WaitAsync(Timeout), Assert.Null);
        }

        Assert.All(await loopStartedInProd.WaitAsync(Timeout), status => Assert.Equal(GrayStatus.Prod, status));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(GrayStatus.Prod)]
    public async Task A_channel_consumer_started_by_a_BackgroundService_sees_the_hosts_context_not_the_writers(GrayStatus? hostStatus)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(Channel.CreateUnbounded<int>());
        builder.Services.AddSingleton<SeenByConsumer>();
        builder.Services.AddHostedService<PlainConsumer>();
        using var host = builder.Build();
        using (hostStatus is { } status ? GrayContext.Begin(status) : GrayContext.Suppress())
        {
            await host.StartAsync().WaitAsync(Timeout);
        }

        var channel = host.Services.GetRequiredService<Channel<int>>();
        using (GrayContext.Begin(GrayStatus.Gray))
        {
            await channel.Writer.WriteAsync(1);
        }

        Assert.Equal(hostStatus, await host.Services.GetRequiredService<SeenByConsumer>().First.WaitAsync(Timeout));
        await host.StopAsync().WaitAsync(Timeout);
    }

    private sealed class SeenByConsumer
    {
        private readonly TaskCompletionSource<GrayStatus?> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<GrayStatus?> First => _first.Task;

        public void Record(GrayStatus? status) => _first.TrySetResult(status);
    }

    private sealed class PlainConsumer(Channel<int> channel, SeenByConsumer seen) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            await foreach (var _ in channel.Reader.ReadAllAsync(stoppingToken))
            {
                seen.Record(GrayContext.Current);
            }
        }
    }
}

/// <summary>Records the gray context of the first <c>count</c> ticks of a timer.</summary>
internal sealed class TickRecorder(int count)
{
    private readonly ConcurrentQueue<(GrayStatus? Status, string? Lane)> _ticks = new();
    private readonly TaskCompletionSource<IReadOnlyList<(GrayStatus? Status, string? Lane)>> _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<IReadOnlyList<(GrayStatus? Status, string? Lane)>> Completed => _completed.Task;

    public void Record()
    {
        _ticks.Enqueue((GrayContext.Current, GrayContext.CurrentLane));
        if (_ticks.Count >= count)
        {
            _completed.TrySetResult(_ticks.ToArray());
        }
    }
}
