using System.Net;
using Microsoft.AspNetCore.Http;

namespace GrayRelease.Yarp;

/// <summary>What a <see cref="IGrayRule"/> sees of a request; the client address and user id are resolved once for all rules.</summary>
public readonly struct GrayRuleContext
{
    /// <summary>Creates the context.</summary>
    public GrayRuleContext(HttpContext httpContext, IPAddress? clientAddress, string? userId)
    {
        HttpContext = httpContext;
        ClientAddress = clientAddress;
        UserId = userId;
    }

    /// <summary>The request.</summary>
    public HttpContext HttpContext { get; }

    /// <summary>The client's address (from a trusted proxy's forwarding headers when configured), or <see langword="null"/>.</summary>
    public IPAddress? ClientAddress { get; }

    /// <summary>The user id from the configured claim or header, or <see langword="null"/>.</summary>
    public string? UserId { get; }
}
