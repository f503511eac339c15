using Microsoft.Extensions.Options;

namespace GrayRelease.Http;

/// <summary>
/// Adds the current flow's gray status to every outgoing request as the gray header, unless the caller set that
/// header explicitly. Registered by <c>IHttpClientBuilder.AddGrayRelease()</c> as the outermost handler.
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

        return base.SendAsync(request, cancellationToken);
    }
}
