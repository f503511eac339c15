using System.Diagnostics;
using GrayRelease.Propagation;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace GrayRelease.Grpc.Interceptors;

/// <summary>
/// Adds the current flow's gray status and lane to every outgoing call as metadata, under the same names as the HTTP
/// headers (<c>GrayRelease:HeaderName</c>, <c>GrayRelease:LaneHeaderName</c>), and/or as the gray members of the W3C
/// <c>baggage</c> metadata (<c>GrayRelease:Propagation</c>), unless the caller set them itself.
/// </summary>
internal sealed class GrayMetadataInterceptor(IOptionsMonitor<GrayReleaseOptions> options) : Interceptor
{
    public override TResponse BlockingUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, BlockingUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        using var aligned = AlignBaggage();
        return continuation(request, WithGrayMetadata(context));
    }

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        using var aligned = AlignBaggage();
        return continuation(request, WithGrayMetadata(context));
    }

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation)
    {
        using var aligned = AlignBaggage();
        return continuation(request, WithGrayMetadata(context));
    }

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, AsyncClientStreamingCallContinuation<TRequest, TResponse> continuation)
    {
        using var aligned = AlignBaggage();
        return continuation(WithGrayMetadata(context));
    }

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, AsyncDuplexStreamingCallContinuation<TRequest, TResponse> continuation)
    {
        using var aligned = AlignBaggage();
        return continuation(WithGrayMetadata(context));
    }

    /// <summary>
    /// A non-empty OpenTelemetry <c>Baggage.Current</c> made to agree with the gray context while the call starts (its
    /// HttpClient instrumentation rewrites the baggage header from it); the call keeps the flow it started in, and the
    /// caller gets its own value back when the scope ends.
    /// </summary>
    private BaggageAlignment AlignBaggage()
    {
        var current = options.CurrentValue;
        if (current.Propagation == GrayPropagation.Header)
        {
            return default;
        }

        var frame = GrayContext.CurrentFrameValue;
        return GrayBaggage.TryAlignForCall(current.BaggageStatusKey, frame?.Status?.ToWireValue(), current.BaggageLaneKey, frame?.Lane, out var previous)
            ? new BaggageAlignment(previous)
            : default;
    }

    private ClientInterceptorContext<TRequest, TResponse> WithGrayMetadata<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context)
        where TRequest : class
        where TResponse : class
    {
        var current = options.CurrentValue;
        var frame = GrayContext.CurrentFrameValue;
        var propagation = current.Propagation;
        Metadata? added = null;
        if (propagation != GrayPropagation.Baggage && frame is not null && (frame.Status is not null || frame.Lane is not null))
        {
            added = WithHeaders(context.Options.Headers, frame, current);
        }

        if (propagation != GrayPropagation.Header)
        {
            added = WithBaggage(added ?? context.Options.Headers, frame, current) ?? added;
        }

        return added is null
            ? context
            : new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host, context.Options.WithHeaders(added));
    }

    private static Metadata? WithHeaders(Metadata? headers, GrayFrame frame, GrayReleaseOptions current)
    {
        var added = headers is null ? new Metadata() : null;

        // gRPC metadata keys are lower case; HTTP header names compare case-insensitively, so the names match.
        if (frame.Status is { } status)
        {
            var name = current.HeaderName.ToLowerInvariant();
            if (headers?.Get(name) is null)
            {
                (added ??= Copy(headers!)).Add(name, status.ToWireValue());
            }
        }

        // The lane travels on every hop, even from a hop that had no instance in it, so a later hop re-enters the lane.
        if (frame.Lane is { } lane)
        {
            var name = current.LaneHeaderName.ToLowerInvariant();
            if (headers?.Get(name) is null)
            {
                (added ??= Copy(headers!)).Add(name, lane);
            }
        }

        return added;
    }

    // Metadata become HTTP/2 headers, where HttpClient's DiagnosticsHandler and OpenTelemetry act as for HttpClient calls:
    // the same merge (GrayBaggage.BuildOutbound) keeps one baggage entry, with our members and everyone else's.
    private static Metadata? WithBaggage(Metadata? headers, GrayFrame? frame, GrayReleaseOptions current)
    {
        string[] existing = [];
        if (headers is not null)
        {
            List<string>? values = null;
            foreach (var entry in headers)
            {
                if (!entry.IsBinary && string.Equals(entry.Key, W3CBaggage.HeaderName, StringComparison.Ordinal))
                {
                    (values ??= []).Add(entry.Value);
                }
            }

            existing = values is null ? [] : [.. values];
        }

        var header = GrayBaggage.BuildOutbound(
            existing, Activity.Current, current.BaggageStatusKey, frame?.Status?.ToWireValue(), current.BaggageLaneKey, frame?.Lane);
        if (header is null)
        {
            return null;
        }

        var copy = new Metadata();
        if (headers is not null)
        {
            foreach (var entry in headers)
            {
                if (entry.IsBinary || !string.Equals(entry.Key, W3CBaggage.HeaderName, StringComparison.Ordinal))
                {
                    copy.Add(entry);
                }
            }
        }

        copy.Add(W3CBaggage.HeaderName, header);
        return copy;
    }

    // The caller's Metadata may be shared between calls: never add to it.
    private static Metadata Copy(Metadata headers)
    {
        var copy = new Metadata();
        foreach (var entry in headers)
        {
            copy.Add(entry);
        }

        return copy;
    }

    private readonly struct BaggageAlignment(object? previous) : IDisposable
    {
        private readonly bool _aligned = true;

        public void Dispose()
        {
            if (_aligned)
            {
                GrayBaggage.Restore(previous);
            }
        }
    }
}
