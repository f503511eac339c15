using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Threading.Channels;
using GrayRelease.Tests.Infrastructure;
using GrayRelease.Tests.Integration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GrayRelease.Tests.Queued;

/// <summary>
/// Work queued by a request and done later, on real Kestrel: a worker app (V1) takes jobs over HTTP, queues them, and a
/// BackgroundService calls user-app (V1, V2 and V1 in lane feature-a, each reporting the gray header it received)
/// through an IHttpClientFactory client with AddGrayRelease(). The test is the first hop.
/// </summary>
public sealed class QueuedWorkChainTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly List<LoopbackApp> _apps = [];
    private LoopbackApp _worker = null!;
    private int _userLaneA;

    public async Task InitializeAsync()
    {
        var userV1 = await ChainApps.StartUserAppAsync("V1");
        var userV2 = await ChainApps.StartUserAppAsync("V2");
        var userLaneA = await ChainApps.StartUserAppAsync("V1");
        _apps.AddRange([userV1, userV2, userLaneA]);
        _userLaneA = userLaneA.Port;

        var settings = ChainApps.InstanceSettings("user-app", [("V1", userV1.Address), ("V2", userV2.Address), ("V1", userLaneA.Address)]);
        settings["GrayRelease:Version"] = "V1";
        settings["GrayRelease:Instances:user-app:2:Metadata:lane"] = "feature-a";
        _worker = await LoopbackApp.StartAsync(
            builder =>
            {
                builder.Services.AddGrayRelease(builder.Configuration);
                builder.Services.AddHttpClient("users", http => http.BaseAddress = new Uri("http://user-app")).AddGrayRelease();
                builder.Services.AddSingleton(GrayChannel.CreateUnbounded<Job>());
                builder.Services.AddSingleton(Channel.CreateUnbounded<Job>());
                builder.Services.AddSingleton<JobResults>();
                builder.Services.AddHostedService<GrayJobWorker>();
                builder.Services.AddHostedService<PlainJobWorker>();
            },
            app =>
            {
                app.UseGrayRelease();
                app.MapPost("/jobs/{id:int}", async (int id, Channel<GrayItem<Job>> queue) =>
                {
                    await queue.Writer.WriteWithGrayContextAsync(new Job(id));
                    return Results.Accepted();
                });
                app.MapPost("/plain-jobs/{id:int}", async (int id, Channel<Job> queue) =>
                {
                    await queue.Writer.WriteAsync(new Job(id));
                    return Results.Accepted();
                });
                // One-shot timers started by the request, as a cache refresh or a delayed clean-up is.
                app.MapPost("/timers/{id:int}", (int id, IHttpClientFactory clients, JobResults results) =>
                {
                    results.Keep(new Timer(_ => _ = results.CallAsync(clients, id, CancellationToken.None), null, TimeSpan.Zero, System.Threading.Timeout.InfiniteTimeSpan));
                    return Results.Accepted();
                });
                app.MapPost("/untagged-timers/{id:int}", (int id, IHttpClientFactory clients, JobResults results) =>
                {
                    results.Keep(GrayTimer.Create(default, _ => _ = results.CallAsync(clients, id, CancellationToken.None), null, TimeSpan.Zero, System.Threading.Timeout.InfiniteTimeSpan));
                    return Results.Accepted();
                });
            },
            settings);
    }

    public async Task DisposeAsync()
    {
        await _worker.DisposeAsync();
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }
    }

    private async Task<UserDto> RunAsync(string path, int id, string? gray, string? lane = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{path}/{id}");
        if (gray is not null)
        {
            request.Headers.Add("gray", gray);
        }

        if (lane is not null)
        {
            request.Headers.Add("gray-lane", lane);
        }

        using var client = new HttpClient { BaseAddress = _worker.Address, Timeout = Timeout };
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return await _worker.Services.GetRequiredService<JobResults>().For(id).WaitAsync(Timeout);
    }

    [Fact]
    public async Task A_job_queued_by_a_gray_request_calls_out_with_the_tag_and_reaches_the_gray_version()
    {
        var user = await RunAsync("/jobs", 1, "GRAY");

        Assert.Equal(("GRAY", "V2"), (user.GrayHeader, user.ServedBy.Version));
    }

    [Fact]
    public async Task A_job_queued_in_a_lane_calls_out_in_that_lane()
    {
        var user = await RunAsync("/jobs", 2, gray: null, lane: "feature-a");

        Assert.Equal(_userLaneA, user.ServedBy.Port);
    }

    [Fact]
    public async Task Tagged_and_untagged_jobs_in_one_queue_each_keep_their_own_tag()
    {
        string?[] tags = ["GRAY", null, "PROD", null, "GRAY", "GRAY", null];
        for (var i = 0; i < tags.Length; i++)
        {
            var user = await RunAsync("/jobs", 100 + i, tags[i]);

            // Untagged: no header, and the worker's own version (UntaggedRequests = CallerVersion).
            Assert.Equal((tags[i] ?? string.Empty, tags[i] == "GRAY" ? "V2" : "V1"), (user.GrayHeader, user.ServedBy.Version));
        }
    }

    [Fact]
    public async Task A_job_queued_in_a_plain_channel_loses_the_tag()
    {
        // What GrayChannel is for: the hosted consumer runs in the host's context, not the request's.
        var user = await RunAsync("/plain-jobs", 200, "GRAY");

        Assert.Equal((string.Empty, "V1"), (user.GrayHeader, user.ServedBy.Version));
    }

    [Fact]
    public async Task A_plain_timer_started_by_a_gray_request_calls_out_gray_and_a_GrayTimer_for_untagged_work_does_not()
    {
        var plain = await RunAsync("/timers", 300, "GRAY");
        var untagged = await RunAsync("/untagged-timers", 301, "GRAY", lane: "feature-a");

        Assert.Equal(("GRAY", "V2"), (plain.GrayHeader, plain.ServedBy.Version));
        Assert.Equal((string.Empty, "V1"), (untagged.GrayHeader, untagged.ServedBy.Version));
        Assert.NotEqual(_userLaneA, untagged.ServedBy.Port);
    }

    public sealed record Job(int Id);

    /// <summary>What user-app answered to each job's call, by job id.</summary>
    public sealed class JobResults : IDisposable
    {
        private readonly ConcurrentDictionary<int, TaskCompletionSource<UserDto>> _results = new();
        private readonly ConcurrentBag<IDisposable> _timers = [];

        public Task<UserDto> For(int id) => Get(id).Task;

        public void Keep(IDisposable timer) => _timers.Add(timer);

        public async Task CallAsync(IHttpClientFactory clients, int id, CancellationToken cancellationToken)
        {
            try
            {
                var user = await clients.CreateClient("users").GetFromJsonAsync<UserDto>($"/users/{id}", cancellationToken);
                Get(id).TrySetResult(user!);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                Get(id).TrySetException(exception);
            }
        }

        public void Dispose()
        {
            foreach (var timer in _timers)
            {
                timer.Dispose();
            }
        }

        private TaskCompletionSource<UserDto> Get(int id) => _results.GetOrAdd(id, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
    }

    /// <summary>The pattern docs/queued-work.md shows: each job is handled in the context of the request that queued it.</summary>
    private sealed class GrayJobWorker(Channel<GrayItem<Job>> queue, IHttpClientFactory clients, JobResults results) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            await foreach (var job in queue.Reader.ReadAllWithGrayContextAsync(stoppingToken))
            {
                await results.CallAsync(clients, job.Id, stoppingToken);
            }
        }
    }

    private sealed class PlainJobWorker(Channel<Job> queue, IHttpClientFactory clients, JobResults results) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            await foreach (var job in queue.Reader.ReadAllAsync(stoppingToken))
            {
                await results.CallAsync(clients, job.Id, stoppingToken);
            }
        }
    }
}
