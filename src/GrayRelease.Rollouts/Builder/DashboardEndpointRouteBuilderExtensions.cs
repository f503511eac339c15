using GrayRelease.Rollouts;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>The operations page of the gray gateway.</summary>
public static class DashboardEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the operations page at <c>{pattern}/</c> (one HTML page from embedded resources: rules, instances by lane
    /// and version, traffic and errors per version, the rollout with pause / resume / abort / promote) and its API:
    /// <c>GET {pattern}/api/status</c> (JSON), <c>GET {pattern}/api/antiforgery</c> (the token the page sends back) and
    /// <c>POST {pattern}/api/rollout/pause|resume|abort|promote</c> (anti-forgery validated). Opt-in; returns the group
    /// so that <c>.RequireAuthorization(...)</c> protects it, as it should: its buttons change production traffic.
    /// Needs <c>AddGrayReleaseRollout()</c> (which also registers anti-forgery).
    /// </summary>
    public static RouteGroupBuilder MapGrayReleaseDashboard(this IEndpointRouteBuilder endpoints, string pattern = "/_gray")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        var group = endpoints.MapGroup(pattern);

        // Routing matches "{pattern}" and "{pattern}/" alike, but the page uses relative addresses (api/status,
        // dashboard.js): without the slash they would resolve one level up, so that form is redirected.
        group.MapGet("/", (HttpContext context) => context.Request.Path.Value?.EndsWith('/') == true
            ? DashboardEndpoints.WriteFileAsync(context, "index.html", "text/html; charset=utf-8")
            : Results.Redirect(context.Request.PathBase + context.Request.Path + "/" + context.Request.QueryString).ExecuteAsync(context));
        group.MapGet("/dashboard.css", (HttpContext context) => DashboardEndpoints.WriteFileAsync(context, "dashboard.css", "text/css; charset=utf-8"));
        group.MapGet("/dashboard.js", (HttpContext context) => DashboardEndpoints.WriteFileAsync(context, "dashboard.js", "text/javascript; charset=utf-8"));
        group.MapGet("/api/status", DashboardEndpoints.WriteStatusAsync);
        group.MapGet("/api/antiforgery", DashboardEndpoints.WriteTokenAsync);
        group.MapPost("/api/rollout/{command}", DashboardEndpoints.ExecuteAsync);
        return group;
    }
}
