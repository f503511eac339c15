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

    /// <summary>Creates the handler.</summary>
    public GrayLoadBalancingHandler(IGrayLoadBalancer loadBalancer) => _loadBalancer = loadBalancer;

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var logicalUri = request.RequestUri;
        if (logicalUri is null || !logicalUri.IsAbsoluteUri || logicalUri.HostNameType is not UriHostNameType.Dns)
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var instance = await _loadBalancer.PickAsync(logicalUri.Host, GrayContext.Current, cancellationToken).ConfigureAwait(false);
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

    private static bool IsConnectFailure(HttpRequestException exception) =>
        exception.HttpRequestError == HttpRequestError.ConnectionError ||
        exception.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable };
}
