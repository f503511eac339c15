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
    public void Deciding_a_request_that_starts_in_the_usual_context_allocates_nothing()
    {
        // A pipeline that goes asynchronous, as the proxy's forwarding does: the step must not box a state machine.
        var pending = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        GrayStatus? seen = null;
        var middleware = Create(_ =>
        {
            seen = GrayContext.Current;
            return pending.Task;
        });
        (HttpContext Context, GrayStatus Status)[] requests = [(Request(headers: ("gray", "gray-996")), GrayStatus.Gray), (Request(), GrayStatus.Prod)];

        // Warm up both paths twice: first calls initialise lazily, and the context "caller + decision" is made the
        // second time a decision sees the same caller's context.
        for (var i = 0; i < 2; i++)
        {
            middleware.InvokeAsync(Request(headers: ("gray", "gray-996")));
            middleware.InvokeAsync(Request());
        }

        foreach (var (context, _) in requests)
        {
            // DefaultHttpContext creates its feature dictionary on the first Set (Kestrel's collection has the room).
            context.Features.Set(new object());
        }

        foreach (var (context, status) in requests)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var task = middleware.InvokeAsync(context);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.False(task.IsCompleted);
            Assert.Equal(status, seen);
            Assert.Null(GrayContext.Current);
            Assert.Equal(0, allocated);
        }

        pending.SetResult();
    }

    [Fact]
    public async Task A_reused_context_carries_the_decision_into_continuations_and_not_into_the_callers_context()
    {
        var middleware = Create(async _ =>
        {
            await Task.Yield();
            Assert.Equal(GrayStatus.Gray, GrayContext.Current);
            await Task.Yield();
            Assert.Equal(GrayStatus.Gray, GrayContext.Current);
        });

        for (var i = 0; i < 4; i++)
        {
            await middleware.InvokeAsync(Request(headers: ("gray", "gray-996")));
            Assert.Null(GrayContext.Current);
        }

        // A caller whose context differs each time (an async local of its own) pays one write, never more, and its own
        // value is kept under the decision.
        var own = new AsyncLocal<int>();
        for (var i = 0; i < 4; i++)
        {
            own.Value = i;
            var observed = -1;
            var probe = Create(_ =>
            {
                observed = own.Value;
                Assert.Equal(GrayStatus.Prod, GrayContext.Current);
                return Task.CompletedTask;
            });
            await probe.InvokeAsync(Request());
            Assert.Equal(i, observed);
            Assert.Null(GrayContext.Current);
        }
    }

    private static GrayDecisionMiddleware Create(RequestDelegate next)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["GrayRelease:Gateway:Enabled"] = "true" }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging();
        services.AddReverseProxy().AddGrayRelease();
        return ActivatorUtilities.CreateInstance<GrayDecisionMiddleware>(services.BuildServiceProvider(), next);
    }
}
