using System.Diagnostics;
using GrayRelease.Propagation;
using Microsoft.Extensions.Options;

namespace GrayRelease.Http;

/// <summary>
/// Adds the current flow's gray status and lane to every outgoing request as the gray and lane headers and/or the gray
/// members of the W3C <c>baggage</c> header (<c>GrayRelease:Propagation</c>), unless the caller set them explicitly.
/// Registered by <c>IHttpClientBuilder.AddGrayRelease()</c> as the outermost handler.
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
        var options = _options.CurrentValue;
        var propagation = options.Propagation;

        // One read of the flow's frame per request: the headers and the baggage members come from the same value.
        var frame = GrayContext.CurrentFrameValue;
        var status = frame?.Status;
        var lane = frame?.Lane;
        if (propagation != GrayPropagation.Baggage)
        {
            AddHeaders(request, options, status, lane);
        }

        if (propagation == GrayPropagation.Header)
        {
            return base.SendAsync(request, cancellationToken);
        }

        var statusValue = status?.ToWireValue();
        request.Headers.TryGetValues(W3CBaggage.HeaderName, out var existing);
        var header = GrayBaggage.BuildOutbound(existing is null ? default : new(existing as string[] ?? [.. existing]), Activity.Current, options.BaggageStatusKey, statusValue, options.BaggageLaneKey, lane);
        if (header is not null)
        {
            // One header, never a second one beside the caller's: the members are merged above.
            request.Headers.Remove(W3CBaggage.HeaderName);
            request.Headers.TryAddWithoutValidation(W3CBaggage.HeaderName, header);
        }

        if (!GrayBaggage.TryAlignForCall(options.BaggageStatusKey, statusValue, options.BaggageLaneKey, lane, out var previous))
        {
            return base.SendAsync(request, cancellationToken);
        }

        // The inner handlers (where OpenTelemetry's instrumentation injects, at the start of the request's activity) run
        // in this flow and keep the aligned Baggage.Current; the caller's own value is put back on return.
        try
        {
            return base.SendAsync(request, cancellationToken);
        }
        finally
        {
            GrayBaggage.Restore(previous);
        }
    }

    private static void AddHeaders(HttpRequestMessage request, GrayReleaseOptions options, GrayStatus? status, string? lane)
    {
        if (status is { } value)
        {
            var headerName = options.HeaderName;
            if (!request.Headers.Contains(headerName))
            {
                request.Headers.TryAddWithoutValidation(headerName, value.ToWireValue());
            }
        }

        // The lane travels on every hop, even from a hop that had no instance in it, so a later hop re-enters the lane.
        if (lane is not null)
        {
            var laneHeaderName = options.LaneHeaderName;
            if (!request.Headers.Contains(laneHeaderName))
            {
                request.Headers.TryAddWithoutValidation(laneHeaderName, lane);
            }
        }
    }
}
