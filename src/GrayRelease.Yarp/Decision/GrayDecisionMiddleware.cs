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

        return InvokeWithDecisionAsync(context, decision);
    }

    private async Task InvokeWithDecisionAsync(HttpContext context, GrayDecision decision)
    {
        using (_logger.BeginScope(decision))
        using (decision.LaneKey is { } lane ? GrayContext.SetInLane(decision.Status, lane) : GrayContext.Set(decision.Status, decision.Lane))
        {
            await _next(context).ConfigureAwait(false);
        }
    }
}
