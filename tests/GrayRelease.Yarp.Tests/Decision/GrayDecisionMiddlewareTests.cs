using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using static GrayRelease.Yarp.Tests.Rules.RuleTestContext;

namespace GrayRelease.Yarp.Tests.Decision;

public class GrayDecisionMiddlewareTests
{
    [Fact]
    public async Task Decision_is_current_inside_the_pipeline_and_gone_after_it()
    {
        GrayStatus? inside = null;
        var middleware = Create(_ =>
        {
            inside = GrayContext.Current;
            return Task.CompletedTask;
        });

        await middleware.InvokeAsync(Request(headers: ("gray", "gray-996")));

        Assert.Equal(GrayStatus.Gray, inside);
        Assert.Null(GrayContext.Current);
    }

    [Fact]
    public async Task Decision_is_gone_after_a_failing_pipeline()
    {
        var middleware = Create(async _ =>
        {
            await Task.Yield();
            throw new HttpRequestException("downstream failed");
        });

        await Assert.ThrowsAsync<HttpRequestException>(() => middleware.InvokeAsync(Request(headers: ("gray", "gray-996"))));

        Assert.Null(GrayContext.Current);
    }

    [Fact]
    public async Task Client_gray_header_is_removed_before_the_next_step()
    {
        var seen = "unset";
        var middleware = Create(context =>
        {
            seen = context.Request.Headers["gray"].ToString();
            return Task.CompletedTask;
        });

        await middleware.InvokeAsync(Request(headers: ("gray", "GRAY")));

        Assert.Equal(string.Empty, seen);
    }

    [Fact]
    public async Task Status_set_before_the_gateway_is_replaced_by_the_decision()
    {
        GrayStatus? inside = null;
        var middleware = Create(_ =>
        {
            inside = GrayContext.Current;
            return Task.CompletedTask;
        });

        // As if an inbound middleware had believed the client's header.
        using (GrayContext.Begin(GrayStatus.Gray))
        {
            await middleware.InvokeAsync(Request());
        }

        Assert.Equal(GrayStatus.Prod, inside);
    }

    [Fact]
    public async Task Request_decided_earlier_in_the_pipeline_is_not_decided_again()
    {
        var decisions = new List<GrayStatus?>();
        GrayDecisionMiddleware? inner = null;
        inner = Create(_ =>
        {
            decisions.Add(GrayContext.Current);
            return Task.CompletedTask;
        });
        var outer = Create(context => inner.InvokeAsync(context));
        var request = Request(headers: ("gray", "gray-996"));

        await outer.InvokeAsync(request);

        Assert.Equal([GrayStatus.Gray], decisions);
    }

    [Fact]
    public void Deciding_a_request_allocates_nothing_but_the_gray_context_write()
    {
        // A pipeline that goes asynchronous, as the proxy's forwarding does: the step must not box a state machine.
        var pending = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var middleware = Create(_ => pending.Task);
        (HttpContext Context, GrayStatus Status)[] requests = [(Request(headers: ("gray", "gray-996")), GrayStatus.Gray), (Request(), GrayStatus.Prod)];

        // Warm up both paths (first calls initialise lazily).
        middleware.InvokeAsync(Request(headers: ("gray", "gray-996")));
        middleware.InvokeAsync(Request());
        foreach (var (context, _) in requests)
        {
            // DefaultHttpContext creates its feature dictionary on the first Set (Kestrel's collection has the room).
            context.Features.Set(new object());
        }

        foreach (var (context, status) in requests)
        {
            // What .NET allocates for one AsyncLocal write (a new ExecutionContext) is the one cost the decision may have.
            var caller = ExecutionContext.Capture()!;
            var before = GC.GetAllocatedBytesForCurrentThread();
            _ = GrayContext.Begin(status);
            var oneWrite = GC.GetAllocatedBytesForCurrentThread() - before;
            ExecutionContext.Restore(caller);

            before = GC.GetAllocatedBytesForCurrentThread();
            var task = middleware.InvokeAsync(context);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.False(task.IsCompleted);
            Assert.Null(GrayContext.Current);
            Assert.Equal(oneWrite, allocated);
        }

        pending.SetResult();
    }

    private static GrayDecisionMiddleware Create(RequestDelegate next)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["GrayRelease:Gateway:Enabled"] = "true" }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging();
        services.AddReverseProxy().AddGrayRelease();
        return ActivatorUtilities.CreateInstance<GrayDecisionMiddleware>(services.BuildServiceProvider(), next);
    }
}
