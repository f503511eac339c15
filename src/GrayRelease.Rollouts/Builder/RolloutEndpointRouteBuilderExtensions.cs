using System.Text.Json;
using GrayRelease.Rollouts;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Microsoft.AspNetCore.Builder;

/// <summary>The rollout's status and control endpoints, and its step in the proxy pipeline.</summary>
public static class RolloutEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps <c>GET {pattern}</c> (the rollout as JSON: <see cref="RolloutSnapshot"/>) and
    /// <c>POST {pattern}/pause|resume|abort|promote</c>. Opt-in; returns the group so that
    /// <c>.RequireAuthorization(...)</c> protects it, as it should: these change production traffic.
    /// </summary>
    public static RouteGroupBuilder MapGrayReleaseRollout(this IEndpointRouteBuilder endpoints, string pattern = "/_gray/rollout")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        var group = endpoints.MapGroup(pattern);
        group.MapGet(string.Empty, WriteSnapshotAsync);
        group.MapPost("/{command}", ExecuteFromRequestAsync);
        return group;
    }

    /// <summary>
    /// Counts every proxied request's outcome by service, version and lane for the rollout (and the metrics
    /// <c>grayrelease.gateway.request.duration</c> / <c>grayrelease.gateway.requests</c>), e.g.
    /// <c>app.MapReverseProxy(p =&gt; { p.UseGrayRouting(); p.UseGrayReleaseObservation(); })</c>. The requests are
    /// observed where they are forwarded, at the end of the pipeline, so the call's place in the pipeline does not
    /// matter; once called it covers every request the gateway proxies.
    /// </summary>
    public static IReverseProxyApplicationBuilder UseGrayReleaseObservation(this IReverseProxyApplicationBuilder proxy)
    {
        ArgumentNullException.ThrowIfNull(proxy);

        // Observation happens in the forwarder AddGrayReleaseRollout() wraps (no per-request state machine to box, see
        // ObservingForwarder); this switches it on. It then covers every request the gateway proxies.
        if (proxy.ApplicationServices.GetService<TrafficObserver>() is null)
        {
            throw new InvalidOperationException("UseGrayReleaseObservation() needs the rollout services: call AddReverseProxy().AddGrayReleaseRollout() first.");
        }

        if (proxy.ApplicationServices.GetRequiredService<IHttpForwarder>() is not ObservingForwarder forwarder)
        {
            throw new InvalidOperationException(
                "UseGrayReleaseObservation() observes requests in the IHttpForwarder that AddGrayReleaseRollout() wraps, but IHttpForwarder was registered again after AddGrayReleaseRollout(): register your own IHttpForwarder before calling AddGrayReleaseRollout(), which then wraps it.");
        }

        forwarder.StartObserving();
        return proxy;
    }

    private static Task WriteSnapshotAsync(HttpContext context)
    {
        var status = context.RequestServices.GetRequiredService<IRolloutStatus>();
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        return JsonSerializer.SerializeAsync(context.Response.Body, status.GetSnapshot(), RolloutJsonContext.Default.RolloutSnapshot, context.RequestAborted);
    }

    /// <summary>
    /// A browser's POST needs the anti-forgery token, as the operations page's own commands do: a cross-site form
    /// would otherwise ride on the operator's cookies (or network). Scripts send none of a browser's headers and are
    /// not exposed to cross-site requests, so they need no token.
    /// </summary>
    private static async Task ExecuteFromRequestAsync(HttpContext context)
    {
        if (DashboardEndpoints.IsFromBrowser(context.Request) && !await DashboardEndpoints.IsValidAsync(context).ConfigureAwait(false))
        {
            return;
        }

        await ExecuteAsync(context).ConfigureAwait(false);
    }

    internal static async Task ExecuteAsync(HttpContext context)
    {
        var name = context.Request.RouteValues["command"] as string;
        if (!Enum.TryParse<RolloutCommand>(name, ignoreCase: true, out var command) || !Enum.IsDefined(command) || int.TryParse(name, out _))
        {
            await Problem(context, StatusCodes.Status404NotFound, $"Unknown rollout command '{name}': use pause, resume, abort or promote.").ConfigureAwait(false);
            return;
        }

        var engine = context.RequestServices.GetRequiredService<RolloutEngine>();
        var by = context.User.Identity?.IsAuthenticated == true && context.User.Identity.Name is { Length: > 0 } user
            ? "operator " + user
            : "operator at " + context.Connection.RemoteIpAddress;
        var result = await engine.ExecuteAsync(command, by, context.RequestAborted).ConfigureAwait(false);
        var status = result.Outcome switch
        {
            RolloutCommandOutcome.Done => StatusCodes.Status200OK,
            RolloutCommandOutcome.NoRollout => StatusCodes.Status404NotFound,
            RolloutCommandOutcome.Unreachable => StatusCodes.Status503ServiceUnavailable,
            _ => StatusCodes.Status409Conflict,
        };
        if (status != StatusCodes.Status200OK)
        {
            await Problem(context, status, result.Message).ConfigureAwait(false);
            return;
        }

        await WriteSnapshotAsync(context).ConfigureAwait(false);
    }

    private static Task Problem(HttpContext context, int status, string detail)
    {
        context.Response.StatusCode = status;
        return Results.Problem(detail: detail, statusCode: status, title: "Rollout command not applied").ExecuteAsync(context);
    }
}
