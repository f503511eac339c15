using System.ComponentModel;
using GrayRelease.Yarp;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Places the gray gateway steps in the ASP.NET Core and YARP pipelines.</summary>
public static class GrayGatewayApplicationBuilderExtensions
{
    /// <summary>
    /// The whole proxy pipeline with gray routing: gray decision, version filter, then YARP's session affinity, load
    /// balancing and passive health checks. Use as <c>app.MapReverseProxy(proxy =&gt; proxy.UseGrayRouting())</c>.
    /// </summary>
    public static IReverseProxyApplicationBuilder UseGrayRouting(this IReverseProxyApplicationBuilder proxy)
    {
        // Named like YARP's own proxy steps (UseSessionAffinity, UseLoadBalancing: what the step does to the request) and
        // like our finer steps (UseGrayDecision, UseGrayVersionFilter). Not UseGrayRelease: IReverseProxyApplicationBuilder
        // is an IApplicationBuilder, so the same name also reached the services' inbound middleware, which does something
        // else; not UseGrayGateway, which already names the IApplicationBuilder step that decides for every request.
        ArgumentNullException.ThrowIfNull(proxy);
        proxy.UseGrayDecision();
        proxy.UseGrayVersionFilter();
        proxy.UseSessionAffinity();
        proxy.UseLoadBalancing();
        proxy.UsePassiveHealthChecks();
        return proxy;
    }

    /// <summary>The former name of <see cref="UseGrayRouting"/>, which it calls.</summary>
    [Obsolete("Use UseGrayRouting(): on the proxy pipeline UseGrayRelease() was easily taken for the services' inbound middleware of the same name.")]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static IReverseProxyApplicationBuilder UseGrayRelease(this IReverseProxyApplicationBuilder proxy) => proxy.UseGrayRouting();

    /// <summary>
    /// Only the gray decision (ALL / PROD / GRAY, client's gray header discarded), for a custom proxy pipeline; skipped
    /// when <see cref="UseGrayGateway"/> already decided for the request.
    /// </summary>
    public static IReverseProxyApplicationBuilder UseGrayDecision(this IReverseProxyApplicationBuilder proxy)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        proxy.UseMiddleware<GrayDecisionMiddleware>();
        return proxy;
    }

    /// <summary>Only the version filter, for a custom proxy pipeline; it must come before <c>UseLoadBalancing()</c> and <c>UseSessionAffinity()</c>.</summary>
    public static IReverseProxyApplicationBuilder UseGrayVersionFilter(this IReverseProxyApplicationBuilder proxy)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        proxy.UseMiddleware<VersionFilterMiddleware>();
        return proxy;
    }

    /// <summary>
    /// Makes the gray decision for every request, not only proxied ones (for endpoints of the gateway itself that call
    /// services through a gray-aware HttpClient). Place it before routing to the proxy.
    /// </summary>
    public static IApplicationBuilder UseGrayGateway(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.UseMiddleware<GrayDecisionMiddleware>();
    }
}
