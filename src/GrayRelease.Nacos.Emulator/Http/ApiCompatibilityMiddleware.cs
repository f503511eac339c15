using GrayRelease.Nacos.Emulator.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Emulator.Http;

/// <summary>
/// With <see cref="NacosEmulatorOptions.V1ApiGone"/>, answers every v1 call 410 Gone as a Nacos 3.0/3.1 server with the
/// client API compatibility switched off does.
/// </summary>
internal sealed class ApiCompatibilityMiddleware
{
    // core/.../controller/compatibility/ApiCompatibilityFilter.java: MESSAGE_NO_REPLACED_API with
    // ApiCompatibilityConfig.CLIENT_API_COMPATIBILITY_KEY, wrapped in Result.failure(ErrorCode.API_DEPRECATED = 40000).
    internal const string Message =
        "{\"code\":40000,\"message\":\"Current API will be deprecated, If wanted continue to use, please set "
        + "`nacos.core.api.compatibility.client.enabled=true` in application.properties.\",\"data\":null}";

    private readonly NacosEmulatorOptions _options;
    private readonly ILogger _logger;

    public ApiCompatibilityMiddleware(NacosEmulatorOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
    }

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var path = context.Request.Path;
        if (!_options.V1ApiGone || !path.StartsWithSegments("/nacos/v1", StringComparison.OrdinalIgnoreCase))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        // ApiCompatibilityFilter: every OPEN_API method marked @Compatibility (all v1 naming, config and login calls)
        // gets response.sendError(SC_GONE, <Result JSON>), which Spring Boot renders as its error attributes.
        Log.V1ApiGone(_logger, path.Value ?? string.Empty);
        await Responses.SpringError(context, StatusCodes.Status410Gone, "Gone", Message, _options.TimeProvider.GetUtcNow()).ConfigureAwait(false);
    }
}
