using System.Diagnostics;
using GrayRelease.Propagation;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace GrayRelease.Yarp;

/// <summary>
/// Adds to every route a request transform that replaces the outgoing gray and lane headers (and/or the gray members of
/// the W3C <c>baggage</c> header, per <c>GrayRelease:Propagation</c>) with the gateway's decision, so whatever the client
/// sent never reaches a service.
/// </summary>
internal sealed class GrayHeaderTransformProvider : ITransformProvider
{
    private readonly IOptionsMonitor<GrayReleaseOptions> _options;

    public GrayHeaderTransformProvider(IOptionsMonitor<GrayReleaseOptions> options) => _options = options;

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context) => context.RequestTransforms.Add(new GrayHeaderTransform(_options));

    private sealed class GrayHeaderTransform(IOptionsMonitor<GrayReleaseOptions> options) : RequestTransform
    {
        public override ValueTask ApplyAsync(RequestTransformContext context)
        {
            var current = options.CurrentValue;
            var headers = context.ProxyRequest.Headers;
            var writeHeaders = current.Propagation != GrayPropagation.Baggage;
            if (!string.IsNullOrEmpty(current.HeaderName))
            {
                headers.Remove(current.HeaderName);
                if (writeHeaders && GrayContext.Current is { } status)
                {
                    headers.TryAddWithoutValidation(current.HeaderName, status.ToWireValue());
                }
            }

            // The lane the gateway chose (from configuration), never the client's: the next hop routes by it.
            if (!string.IsNullOrEmpty(current.LaneHeaderName))
            {
                headers.Remove(current.LaneHeaderName);
                if (writeHeaders && GrayContext.CurrentLane is { } lane)
                {
                    headers.TryAddWithoutValidation(current.LaneHeaderName, lane);
                }
            }

            // The client's gray members left the inbound header in GrayDecisionMiddleware; the decision's are merged into
            // what remains. With an Activity, YARP's propagator rewrites this header from the Activity's baggage, which
            // the decision middleware made hold the same members.
            if (current.Propagation != GrayPropagation.Header)
            {
                headers.TryGetValues(W3CBaggage.HeaderName, out var existing);
                var baggage = GrayBaggage.BuildOutbound(
                    existing is null ? default : new(existing as string[] ?? [.. existing]),
                    Activity.Current,
                    current.BaggageStatusKey,
                    GrayContext.Current?.ToWireValue(),
                    current.BaggageLaneKey,
                    GrayContext.CurrentLane);
                if (baggage is not null)
                {
                    headers.Remove(W3CBaggage.HeaderName);
                    headers.TryAddWithoutValidation(W3CBaggage.HeaderName, baggage);
                }
            }

            return ValueTask.CompletedTask;
        }
    }
}
