using Microsoft.Extensions.Options;

namespace GrayRelease.Http;

/// <summary>
/// Adds the current flow's gray status and lane to every outgoing request as the gray and lane headers, unless the
/// caller set those headers explicitly. Registered by <c>IHttpClientBuilder.AddGrayRelease()</c> as the outermost handler.
/// </summary>
public sealed class GrayPropagationHandler : DelegatingHandler
{
    private readonly IOptionsMonitor<GrayReleaseOptions> _options;

    /// <summary>Creates the handler.</summary>
    public GrayPropagationHandler(IOptionsMonitor<GrayReleaseOptions> options) => _options = options;

    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (GrayContext.Current is { } status)
        {
            var headerName = _options.CurrentValue.HeaderName;
            if (!request.Headers.Contains(headerName))
            {
                request.Headers.TryAddWithoutValidation(headerName, status.ToWireValue());
            }
        }

        // The lane travels on every hop, even from a hop that had no instance in it, so a later hop re-enters the lane.
        if (GrayContext.CurrentLane is { } lane)
        {
            var laneHeaderName = _options.CurrentValue.LaneHeaderName;
            if (!request.Headers.Contains(laneHeaderName))
            {
                request.Headers.TryAddWithoutValidation(laneHeaderName, lane);
            }
        }

        return base.SendAsync(request, cancellationToken);
    }
}
