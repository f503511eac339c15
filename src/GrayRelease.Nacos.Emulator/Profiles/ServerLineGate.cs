using System.Globalization;
using GrayRelease.Nacos.Emulator.Diagnostics;
using GrayRelease.Nacos.Emulator.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Emulator.Profiles;

/// <summary>
/// Answers the HTTP paths a server line does not serve, before auth and routing, as that server would:
/// 404 for a path it has no controller for, 410 for a 3.x admin-typed v1/v2 call (compatibility switch off).
/// </summary>
internal sealed class ServerLineGate
{
    private readonly NacosEmulatorOptions _options;
    private readonly ILogger _logger;

    public ServerLineGate(NacosEmulatorOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
    }

    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var path = context.Request.Path.Value ?? string.Empty;
        if (!Served(path))
        {
            return RejectAsync(context, path, StatusCodes.Status404NotFound, "Not Found", message: null);
        }

        if (_options.ServerLine == NacosServerLine.Nacos31 && AdminAlternative(context.Request.Method, path) is { } alternative)
        {
            // core/controller/compatibility/ApiCompatibilityFilter.java: sendError(410, Result{40000, …}) with
            // nacos.core.api.compatibility.admin.enabled=false (the default); Spring Boot renders it with the message.
            var result = "{\"code\":40000,\"message\":\"Current API will be deprecated, please use API(s) `" + alternative
                + "` instead, or set `nacos.core.api.compatibility.admin.enabled=true` in application.properties.\",\"data\":null}";
            return RejectAsync(context, path, StatusCodes.Status410Gone, "Gone", result);
        }

        return next(context);
    }

    /// <summary>PROTOCOL-GRPC.md §9: which HTTP APIs each line has.</summary>
    private bool Served(string path)
    {
        var line = _options.ServerLine;
        if (Under(path, "/nacos/v3/"))
        {
            return line is NacosServerLine.Nacos31 or NacosServerLine.Nacos32;
        }

        if (Under(path, "/nacos/v2/"))
        {
            return line is NacosServerLine.Nacos2 or NacosServerLine.Nacos31;
        }

        if (line == NacosServerLine.Nacos32 && Under(path, "/nacos/v1/"))
        {
            // 3.2 moved v1/v2 to the optional legacy adapter; only the v1 users login stays (alibaba/nacos #14050).
            return path.Equals("/nacos/v1/auth/users/login", StringComparison.OrdinalIgnoreCase);
        }

        return true;
    }

    /// <summary>The 3.1 ADMIN_API-typed calls our emulator has (InstanceController.java, InstanceControllerV2.java @Compatibility).</summary>
    private static string? AdminAlternative(string method, string path)
    {
        if (Under(path, "/nacos/v2/ns/instance"))
        {
            return path.EndsWith("/list", StringComparison.OrdinalIgnoreCase)
                ? "GET ${contextPath:nacos}/v3/admin/ns/instance/list"
                : method + " ${contextPath:nacos}/v3/admin/ns/instance";
        }

        if (path.Equals("/nacos/v1/ns/instance", StringComparison.OrdinalIgnoreCase) && (HttpMethods.IsPut(method) || HttpMethods.IsGet(method)))
        {
            return method + " ${contextPath:nacos}/v3/admin/ns/instance";
        }

        return null;
    }

    private static bool Under(string path, string prefix) => path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>Spring Boot's error body (BasicErrorController; server.error.include-message=ALWAYS in Nacos's application.properties).</summary>
    private Task RejectAsync(HttpContext context, string path, int status, string error, string? message)
    {
        Log.NotServedByLine(_logger, path, _options.ServerLine.ToString(), status);
        return Responses.Json(context, status, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("timestamp", _options.TimeProvider.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture));
            writer.WriteNumber("status", status);
            writer.WriteString("error", error);
            if (message is not null)
            {
                writer.WriteString("message", message);
            }

            writer.WriteString("path", path);
            writer.WriteEndObject();
        });
    }
}
