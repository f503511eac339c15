using System.Net.Sockets;
using GrayRelease.LoadBalancing;

namespace GrayRelease.Http;

/// <summary>
/// Resolves a logical service address (<c>http://user-app/users/1</c>) to an instance of the version the current
/// gray status wants. Hosts the instance provider does not know, and IP literals, pass through untouched.
/// Registered by <c>IHttpClientBuilder.AddGrayRelease()</c> as the innermost handler, so every retry of a
/// resilience handler is load-balanced again.
/// </summary>
public sealed class GrayLoadBalancingHandler : DelegatingHandler
{
    private readonly IGrayLoadBalancer _loadBalancer;

    // The last mixed-case host taken from a request's text: one client mostly calls one service, so after the first
    // call the name is reused instead of allocated per request.
    private string? _lastSpelling;

    /// <summary>Creates the handler.</summary>
    public GrayLoadBalancingHandler(IGrayLoadBalancer loadBalancer) => _loadBalancer = loadBalancer;

    /// <summary>The spelling of this client's base address host, set when the handler chain is built for a named client.</summary>
    internal ServiceNameSpelling? BaseAddress { get; set; }

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var logicalUri = request.RequestUri;
        if (logicalUri is null || !logicalUri.IsAbsoluteUri || logicalUri.HostNameType is not UriHostNameType.Dns)
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var context = GrayContext.CurrentFrameValue;
        var status = context?.Status;
        var lane = context?.Lane;

        // Without a lane, the original method: a user's own balancer that predates lanes keeps working unchanged. Ours
        // gets the lane as the context interned it, once per request.
        var instance = lane is null
            ? await _loadBalancer.PickAsync(GetServiceName(logicalUri), status, cancellationToken).ConfigureAwait(false)
            : _loadBalancer is GrayLoadBalancer own
                ? await own.PickInLaneAsync(GetServiceName(logicalUri), status, context!.LaneKey, lane, cancellationToken).ConfigureAwait(false)
                : await _loadBalancer.PickInLaneAsync(GetServiceName(logicalUri), status, lane, cancellationToken).ConfigureAwait(false);
        if (instance is null)
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        request.RequestUri = new Uri(string.Concat(instance.Address, logicalUri.PathAndQuery, logicalUri.Fragment));
        try
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException exception) when (IsConnectFailure(exception))
        {
            _loadBalancer.ReportConnectionFailure(instance);
            throw;
        }
        finally
        {
            // A retry that re-sends this same message must be balanced again, not pinned to this instance.
            request.RequestUri = logicalUri;
        }
    }

    /// <summary>
    /// The service name as the caller wrote it. <see cref="Uri.Host"/> is lower-cased, but registry names are
    /// case-sensitive (Nacos: <c>UserApp</c> and <c>userapp</c> are two services), so the spelling is read back from
    /// the request's own text or, for a request made relative to the client's base address, from that address.
    /// </summary>
    internal string GetServiceName(Uri uri)
    {
        var host = uri.Host;
        var written = HostAsWritten(uri, host);
        if (!written.IsEmpty && !written.SequenceEqual(host))
        {
            var last = Volatile.Read(ref _lastSpelling);
            if (last is null || !written.SequenceEqual(last))
            {
                last = written.ToString();
                Volatile.Write(ref _lastSpelling, last);
            }

            return last;
        }

        // A lower-case text is either what the caller wrote or the result of combining a relative request with the
        // base address (Uri writes the combination lower-cased); the two cannot be told apart, and inside a client
        // whose base address names the service the base address spelling is the one meant.
        return BaseAddress?.Host is { } spelled && string.Equals(spelled, host, StringComparison.OrdinalIgnoreCase) ? spelled : host;
    }

    /// <summary>The host inside the text <paramref name="uri"/> was made from, or empty when it cannot be located.</summary>
    private static ReadOnlySpan<char> HostAsWritten(Uri uri, string host)
    {
        // Per-request path: the usual text is scheme://host[:port]/..., with the host right after "://".
        var original = uri.OriginalString;
        var start = uri.Scheme.Length + 3;
        var end = start + host.Length;
        if (original.Length >= end && (original.Length == end || original[end] is ':' or '/' or '?' or '#' or '\\'))
        {
            var candidate = original.AsSpan(start, host.Length);
            if (candidate.Equals(host, StringComparison.OrdinalIgnoreCase))
            {
                return candidate;
            }
        }

        return HostAsWritten(original, host);
    }

    /// <summary>The host inside <paramref name="original"/> (the text a Uri was made from), or empty when it cannot be located.</summary>
    internal static ReadOnlySpan<char> HostAsWritten(string original, string host)
    {
        var text = original.AsSpan();
        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0)
        {
            return default;
        }

        text = text[(schemeEnd + 3)..];
        var end = text.IndexOfAny("/\\?#");
        if (end >= 0)
        {
            text = text[..end];
        }

        var at = text.LastIndexOf('@');
        if (at >= 0)
        {
            text = text[(at + 1)..];
        }

        // Anything Uri rewrote beyond case (escapes, IDN) does not line up: fall back to the parsed host.
        if (text.Length < host.Length || (text.Length > host.Length && text[host.Length] != ':'))
        {
            return default;
        }

        text = text[..host.Length];
        return text.Equals(host, StringComparison.OrdinalIgnoreCase) ? text : default;
    }

    private static bool IsConnectFailure(HttpRequestException exception) =>
        exception.HttpRequestError == HttpRequestError.ConnectionError ||
        exception.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable };
}
