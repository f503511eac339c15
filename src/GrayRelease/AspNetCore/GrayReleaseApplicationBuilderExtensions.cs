using GrayRelease.AspNetCore;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Adds the GrayRelease inbound middleware to the request pipeline.</summary>
public static class GrayReleaseApplicationBuilderExtensions
{
    /// <summary>
    /// Reads the gray header of each request into <c>GrayContext</c> for that request only, and answers 503 when a
    /// downstream call finds no instance of the wanted version. Place it early, before the endpoints.
    /// </summary>
    public static IApplicationBuilder UseGrayRelease(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.UseMiddleware<GrayReleaseMiddleware>();
    }
}
