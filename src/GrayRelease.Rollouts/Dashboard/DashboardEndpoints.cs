using System.Text.Json;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrayRelease.Rollouts;

/// <summary>The handlers behind <c>MapGrayReleaseDashboard</c>: the page's files, its status JSON, its token and its commands.</summary>
internal static class DashboardEndpoints
{
    /// <summary>Embedded resources are named <c>GrayRelease.Rollouts.Dashboard.{file}</c> (see the project file).</summary>
    private const string ResourcePrefix = "GrayRelease.Rollouts.Dashboard.";

    // The page needs nothing from anywhere else: no inline script, no third-party origin, no framing.
    private const string ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    public static async Task WriteFileAsync(HttpContext context, string file, string contentType)
    {
        var stream = typeof(DashboardEndpoints).Assembly.GetManifestResourceStream(ResourcePrefix + file);
        if (stream is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        await using (stream.ConfigureAwait(false))
        {
            var headers = context.Response.Headers;
            context.Response.ContentType = contentType;
            headers.CacheControl = "no-cache";
            headers.XContentTypeOptions = "nosniff";
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers["Referrer-Policy"] = "no-referrer";
            context.Response.ContentLength = stream.Length;
            await stream.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    public static Task WriteStatusAsync(HttpContext context)
    {
        var builder = ActivatorUtilities.GetServiceOrCreateInstance<DashboardStatusBuilder>(context.RequestServices);
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        return JsonSerializer.SerializeAsync(context.Response.Body, builder.Build(), DashboardJsonContext.Default.DashboardStatus, context.RequestAborted);
    }

    /// <summary>Issues the anti-forgery cookie and hands the request token to the page, which sends it back on every POST.</summary>
    public static Task WriteTokenAsync(HttpContext context)
    {
        var antiforgery = context.RequestServices.GetRequiredService<IAntiforgery>();
        var tokens = antiforgery.GetAndStoreTokens(context);
        var header = tokens.HeaderName ?? context.RequestServices.GetRequiredService<IOptions<AntiforgeryOptions>>().Value.HeaderName ?? "RequestVerificationToken";
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        return JsonSerializer.SerializeAsync(context.Response.Body, new DashboardToken(header, tokens.RequestToken ?? string.Empty), DashboardJsonContext.Default.DashboardToken, context.RequestAborted);
    }

    /// <summary>A command from the page: only with a valid anti-forgery token, then exactly what <c>POST {rollout}/{command}</c> does.</summary>
    public static async Task ExecuteAsync(HttpContext context)
    {
        if (!await IsValidAsync(context).ConfigureAwait(false))
        {
            return;
        }

        if (context.RequestServices.GetService<RolloutEngine>() is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await Results.Problem(detail: "No rollout on this gateway: add it with AddGrayReleaseRollout().", statusCode: StatusCodes.Status404NotFound, title: "Rollout command not applied").ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        await Microsoft.AspNetCore.Builder.RolloutEndpointRouteBuilderExtensions.ExecuteAsync(context).ConfigureAwait(false);
    }

    /// <summary>
    /// True for a request a browser made: browsers send <c>Sec-Fetch-Site</c> (all current ones) or <c>Origin</c> (on
    /// every cross-origin POST) and carry cookies; HTTP clients of scripts send none of these by default.
    /// </summary>
    internal static bool IsFromBrowser(HttpRequest request)
    {
        var headers = request.Headers;
        return headers.ContainsKey("Sec-Fetch-Site") || headers.ContainsKey(Microsoft.Net.Http.Headers.HeaderNames.Origin) || headers.ContainsKey(Microsoft.Net.Http.Headers.HeaderNames.Cookie);
    }

    /// <summary>Validates the request's anti-forgery token; answers 400 (and logs, without the token) when it is missing or wrong.</summary>
    internal static async Task<bool> IsValidAsync(HttpContext context)
    {
        var antiforgery = context.RequestServices.GetService<IAntiforgery>();
        if (antiforgery is null)
        {
            // Registered by AddGrayReleaseRollout(); without it nothing can be validated, so nothing is accepted.
            await RejectAsync(context, "anti-forgery is not configured (services.AddAntiforgery())").ConfigureAwait(false);
            return false;
        }

        try
        {
            await antiforgery.ValidateRequestAsync(context).ConfigureAwait(false);
            return true;
        }
        catch (AntiforgeryValidationException)
        {
            // The exception's message may describe the tokens; the log keeps only the fact and the caller.
            await RejectAsync(context, "missing or invalid anti-forgery token").ConfigureAwait(false);
            return false;
        }
    }

    private static async Task RejectAsync(HttpContext context, string reason)
    {
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("GrayRelease.Rollouts.Dashboard");
        Log.DashboardPostRejected(logger, context.Request.Path.Value ?? string.Empty, context.Connection.RemoteIpAddress?.ToString() ?? "unknown", reason);
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        await Results.Problem(detail: $"Rejected: {reason}. Fetch a token from the page's api/antiforgery and send it in its header.", statusCode: StatusCodes.Status400BadRequest, title: "Rollout command not applied").ExecuteAsync(context).ConfigureAwait(false);
    }
}
