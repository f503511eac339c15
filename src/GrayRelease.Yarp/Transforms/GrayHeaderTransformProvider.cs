using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace GrayRelease.Yarp;

/// <summary>
/// Adds to every route a request transform that replaces the outgoing gray and lane headers with the gateway's decision,
/// so whatever the client sent never reaches a service.
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
            if (!string.IsNullOrEmpty(current.HeaderName))
            {
                headers.Remove(current.HeaderName);
                if (GrayContext.Current is { } status)
                {
                    headers.TryAddWithoutValidation(current.HeaderName, status.ToWireValue());
                }
            }

            // The lane the gateway chose (from configuration), never the client's: the next hop routes by it.
            if (!string.IsNullOrEmpty(current.LaneHeaderName))
            {
                headers.Remove(current.LaneHeaderName);
                if (GrayContext.CurrentLane is { } lane)
                {
                    headers.TryAddWithoutValidation(current.LaneHeaderName, lane);
                }
            }

            return ValueTask.CompletedTask;
        }
    }
}
