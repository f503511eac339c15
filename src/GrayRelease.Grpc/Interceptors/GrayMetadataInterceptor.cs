using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace GrayRelease.Grpc.Interceptors;

/// <summary>
/// Adds the current flow's gray status and lane to every outgoing call as metadata, under the same names as the HTTP
/// headers (<c>GrayRelease:HeaderName</c>, <c>GrayRelease:LaneHeaderName</c>), unless the caller set them itself.
/// </summary>
internal sealed class GrayMetadataInterceptor(IOptionsMonitor<GrayReleaseOptions> options) : Interceptor
{
    public override TResponse BlockingUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, BlockingUnaryCallContinuation<TRequest, TResponse> continuation) =>
        continuation(request, WithGrayMetadata(context));

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation) =>
        continuation(request, WithGrayMetadata(context));

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation) =>
        continuation(request, WithGrayMetadata(context));

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, AsyncClientStreamingCallContinuation<TRequest, TResponse> continuation) =>
        continuation(WithGrayMetadata(context));

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, AsyncDuplexStreamingCallContinuation<TRequest, TResponse> continuation) =>
        continuation(WithGrayMetadata(context));

    private ClientInterceptorContext<TRequest, TResponse> WithGrayMetadata<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context)
        where TRequest : class
        where TResponse : class
    {
        var frame = GrayContext.CurrentFrameValue;
        if (frame is null || (frame.Status is null && frame.Lane is null))
        {
            return context;
        }

        var current = options.CurrentValue;
        var headers = context.Options.Headers;
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

        return added is null
            ? context
            : new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host, context.Options.WithHeaders(added));
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
}
