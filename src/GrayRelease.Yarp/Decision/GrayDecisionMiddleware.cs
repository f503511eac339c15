using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrayRelease.Yarp;

/// <summary>
/// Decides ALL / PROD / GRAY and the lane for a request entering the gateway, discards the gray and lane headers the
/// client sent, and runs the rest of the pipeline inside that decision's <see cref="GrayContext"/>.
/// </summary>
internal sealed class GrayDecisionMiddleware
{
    private readonly RequestDelegate _next;
    private readonly GrayDecisionEngine _engine;
    private readonly GatewayMetrics _metrics;
    private readonly IOptionsMonitor<GrayReleaseOptions> _options;
    private readonly ILogger _logger;

    public GrayDecisionMiddleware(
        RequestDelegate next,
        GrayDecisionEngine engine,
        GatewayMetrics metrics,
        IOptionsMonitor<GrayReleaseOptions> options,
        ILogger<GrayDecisionMiddleware> logger)
    {
        _next = next;
        _engine = engine;
        _metrics = metrics;
        _options = options;
        _logger = logger;
    }

    public Task InvokeAsync(HttpContext context)
    {
        // Decided already (UseGrayGateway() in front of the proxy pipeline): decide once, count once. The marker is our
        // own feature rather than GrayContext.Current, which a misplaced inbound middleware could set from the client.
        if (context.Features.Get<GrayDecision>() is not null)
        {
            return _next(context);
        }

        var decision = _engine.Decide(context);
        context.Features.Set(decision);

        // The rules have read the request; from here on only the gateway's decision (status and lane) travels downstream.
        var options = _options.CurrentValue;
        if (options.HeaderName is { Length: > 0 } headerName)
        {
            context.Request.Headers.Remove(headerName);
        }

        if (options.LaneHeaderName is { Length: > 0 } laneHeaderName)
        {
            context.Request.Headers.Remove(laneHeaderName);
        }

        // The same for the gray members of W3C baggage, whatever GrayRelease:Propagation says: a service may read them.
        GatewayBaggage.StripClientMembers(context.Request, options, _logger);

        _metrics.RecordDecision(decision);
        if (Activity.Current is { } activity)
        {
            for (var i = 0; i < decision.Count; i++)
            {
                activity.SetTag(decision[i].Key, decision[i].Value);
            }
        }

        Log.GrayDecisionMade(_logger, decision.WireValue, decision.Rule);
        if (decision.Lane is { } lane)
        {
            Log.LaneEntered(_logger, lane, decision.LaneRule!);
        }

        // Not an async method: its state machine would be boxed on every request, since forwarding always goes
        // asynchronous. The rest of the pipeline runs its synchronous part here and captures the context with the
        // decision at its first await, so every continuation sees it; then this step puts back the caller's context,
        // which is what an async method's builder does on its return (runtime AsyncMethodBuilderCore.Start).
        var caller = ExecutionContext.Capture();

        // The scope is skipped when this category logs nothing at any level, the rule of ASP.NET Core's own request scope
        // (aspnetcore src/Hosting/Hosting/src/Internal/HostingApplicationDiagnostics.cs): with no provider at all it
        // would be an allocation per request that nobody can see.
        var logScope = _logger.IsEnabled(LogLevel.Critical) ? _logger.BeginScope(decision) : null;
        // Without a log scope the context at this point is the caller's: requests that start in the same context (the
        // usual case without tracing) reuse one context per decision instead of allocating one per request.
        var grayScope = logScope is null && caller is not null && GrayContext.TryEnterReused(decision.Frame, caller)
            ? default
            : GrayContext.Enter(decision.Frame);

        // After entering the decision, which may switch to a reused context; undone with the caller's context below.
        GatewayBaggage.ApplyDecision(options, decision.WireValue, decision.Lane, mayWriteAsyncLocal: caller is not null);
        try
        {
            return _next(context);
        }
        finally
        {
            if (caller is not null)
            {
                // Restoring the captured context costs nothing, where undoing each AsyncLocal write allocates a new
                // context per write; the scopes below then find their values already restored and change nothing.
                ExecutionContext.Restore(caller);
            }

            grayScope.Dispose();
            logScope?.Dispose();
        }
    }
}
