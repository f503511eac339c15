using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace GrayRelease.Rollouts;

/// <summary>
/// Proxy-pipeline step around the rest of the pipeline (load balancing and the forwarder): after the request it reads
/// the destination YARP proxied to and the outcome, and hands them to the <see cref="TrafficObserver"/>.
/// </summary>
internal sealed class ObservationMiddleware
{
    private readonly RequestDelegate _next;
    private readonly TrafficObserver _observer;

    public ObservationMiddleware(RequestDelegate next, TrafficObserver observer)
    {
        _next = next;
        _observer = observer;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            await _next(context).ConfigureAwait(false);
        }
        finally
        {
            var end = Stopwatch.GetTimestamp();
            Observe(context, end - start, end);
        }
    }

    private void Observe(HttpContext context, long elapsedTicks, long endTicks)
    {
        var feature = context.Features.Get<IReverseProxyFeature>();
        if (feature?.ProxiedDestination?.Model is not { } destination)
        {
            // No destination was chosen (no instance of the wanted version, a 503 of the gateway): not a version's outcome.
            return;
        }

        Outcome outcome;
        var error = context.Features.Get<IForwarderErrorFeature>();
        if (error is not null && error.Error != ForwarderError.None)
        {
            if (IsCallersDoing(error.Error))
            {
                return;
            }

            outcome = Outcome.TransportError;
        }
        else
        {
            outcome = Outcomes.FromStatusCode(context.Response.StatusCode);
        }

        _observer.Record(destination, feature.Cluster, GrayContext.CurrentLane, outcome, elapsedTicks, endTicks);
    }

    /// <summary>The client gave up or broke its side: says nothing about the destination's version.</summary>
    private static bool IsCallersDoing(ForwarderError error) => error is ForwarderError.RequestCanceled
        or ForwarderError.RequestBodyCanceled or ForwarderError.RequestBodyClient
        or ForwarderError.ResponseBodyCanceled or ForwarderError.ResponseBodyClient
        or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeRequestClient
        or ForwarderError.UpgradeResponseCanceled or ForwarderError.UpgradeResponseClient;
}
