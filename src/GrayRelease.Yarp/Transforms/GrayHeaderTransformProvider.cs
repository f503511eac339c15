using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace GrayRelease.Yarp;

/// <summary>
/// Adds to every route a request transform that replaces the outgoing gray header with the gateway's decision, so
/// whatever the client sent never reaches a service.
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
            var headerName = options.CurrentValue.HeaderName;
            if (string.IsNullOrEmpty(headerName))
            {
                return ValueTask.CompletedTask;
            }

            var headers = context.ProxyRequest.Headers;
            headers.Remove(headerName);
            if (GrayContext.Current is { } status)
            {
                headers.TryAddWithoutValidation(headerName, status.ToWireValue());
            }

            return ValueTask.CompletedTask;
        }
    }
}
