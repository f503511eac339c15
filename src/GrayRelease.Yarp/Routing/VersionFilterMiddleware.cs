using System.Text.Json;
using GrayRelease.Routing;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Model;

namespace GrayRelease.Yarp;

/// <summary>
/// Proxy-pipeline step in front of load balancing: replaces <see cref="IReverseProxyFeature.AvailableDestinations"/>
/// with the wanted version's destinations. It must run before YARP's load balancing because YARP takes a lone
/// destination without asking the policy, which would send a gray request to the only (prod) destination.
/// </summary>
internal sealed class VersionFilterMiddleware
{
    private readonly RequestDelegate _next;
    private readonly VersionFilter _filter;

    public VersionFilterMiddleware(RequestDelegate next, VersionFilter filter)
    {
        _next = next;
        _filter = filter;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var feature = context.GetReverseProxyFeature();
        if (feature.Route.Cluster is not { } cluster || feature.AvailableDestinations is DestinationSet)
        {
            return _next(context);
        }

        var destinations = _filter.Select(cluster, feature.Cluster, feature.AvailableDestinations, out var failure);
        if (destinations is null)
        {
            feature.AvailableDestinations = [];
            return WriteProblemAsync(context, feature.Cluster.Config.ClusterId, failure!);
        }

        feature.AvailableDestinations = destinations;
        return _next(context);
    }

    private static Task WriteProblemAsync(HttpContext context, string clusterId, RouteFailure failure)
    {
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.ContentType = "application/problem+json";
        var problem = new NoDestinationProblem(
            failure.StrictLane ? "No destination in the request's strict lane is available." : "No destination of the wanted version is available.",
            StatusCodes.Status503ServiceUnavailable,
            $"Cluster '{clusterId}': {failure.Message}",
            clusterId,
            failure.ServiceName,
            failure.Status?.ToWireValue() ?? "untagged",
            failure.WantedVersion,
            failure.AvailableVersions,
            failure.Lane);
        return JsonSerializer.SerializeAsync(context.Response.Body, problem, GatewayJsonContext.Default.NoDestinationProblem, context.RequestAborted);
    }
}
