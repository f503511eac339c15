using System.Diagnostics;
using GrayRelease.Propagation;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Yarp;

/// <summary>
/// The gateway's side of W3C baggage: whatever gray members the client sent are removed, as its gray headers are, from the
/// header and from both .NET baggage APIs (which forward them on their own: YARP's propagator rewrites the outgoing
/// <c>baggage</c> header from the request's Activity, OpenTelemetry's HttpClient instrumentation from <c>Baggage.Current</c>);
/// with <c>GrayRelease:Propagation</c> Baggage or Both, the decision's members take their place.
/// </summary>
internal static class GatewayBaggage
{
    /// <summary>
    /// Removes the gray members (and malformed members, which another parser might read as gray ones) from the request's
    /// <c>baggage</c> header; the other members are kept as they came. Nothing is allocated without a baggage header.
    /// </summary>
    public static void StripClientMembers(HttpRequest request, GrayReleaseOptions options, ILogger logger)
    {
        if (!request.Headers.TryGetValue(W3CBaggage.HeaderName, out var values))
        {
            return;
        }

        var parsed = W3CBaggage.Parse(values);
        var ignored = parsed.Malformed + parsed.BeyondLimits;
        if (ignored == 0 && !parsed.Mentions(options.BaggageStatusKey) && !parsed.Mentions(options.BaggageLaneKey))
        {
            return;
        }

        List<string> kept = [];
        foreach (var member in parsed.Members)
        {
            if (!string.Equals(member.Key, options.BaggageStatusKey, StringComparison.Ordinal) &&
                !string.Equals(member.Key, options.BaggageLaneKey, StringComparison.Ordinal))
            {
                kept.Add(member.Raw);
            }
        }

        if (W3CBaggage.Build([], kept) is { } header)
        {
            request.Headers[W3CBaggage.HeaderName] = header;
        }
        else
        {
            request.Headers.Remove(W3CBaggage.HeaderName);
        }

        Log.ClientGrayBaggageRemoved(logger, ignored, kept.Count);
    }

    /// <summary>
    /// Makes the request's Activity baggage hold the decision's members (Baggage, Both) or none (Header), whatever the client
    /// sent; a non-empty <c>Baggage.Current</c> too. The latter is an async-local write: the caller restores its context.
    /// </summary>
    public static void ApplyDecision(GrayReleaseOptions options, string? status, string? lane, bool mayWriteAsyncLocal)
    {
        if (options.Propagation == GrayPropagation.Header)
        {
            status = null;
            lane = null;
        }

        if (Activity.Current is { } activity)
        {
            GrayBaggage.AgreeActivity(activity, options.BaggageStatusKey, status);
            GrayBaggage.AgreeActivity(activity, options.BaggageLaneKey, lane);
        }

        if (mayWriteAsyncLocal)
        {
            GrayBaggage.TryAlignForCall(options.BaggageStatusKey, status, options.BaggageLaneKey, lane, out _);
        }
    }
}
