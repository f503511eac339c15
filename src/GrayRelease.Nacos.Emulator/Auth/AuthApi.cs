using GrayRelease.Nacos.Emulator.Diagnostics;
using GrayRelease.Nacos.Emulator.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Emulator.Auth;

/// <summary>Login (v1, v1 users, v3) and the token check every other call goes through when auth is on.</summary>
internal sealed class AuthApi
{
    // The paths a real server serves: plugin-default-impl/.../controller/UserController.java maps
    // {"/v1/auth", "/v1/auth/users"} + "/login" (both @Compatibility OPEN_API: 410 with the client API switched off),
    // controller/v3/UserControllerV3.java maps AuthConstants.USER_PATH "/v3/auth/user" + "/login".
    private static readonly string[] LoginPaths = ["/nacos/v1/auth/login", "/nacos/v1/auth/users/login", "/nacos/v3/auth/user/login"];

    private readonly TokenService _tokens;
    private readonly NacosEmulatorOptions _options;
    private readonly NacosEmulatorFaults _faults;
    private readonly ILogger _logger;

    public AuthApi(TokenService tokens, NacosEmulatorOptions options, NacosEmulatorFaults faults, ILogger logger)
    {
        _tokens = tokens;
        _options = options;
        _faults = faults;
        _logger = logger;
    }

    public void Map(IEndpointRouteBuilder routes)
    {
        foreach (var path in LoginPaths)
        {
            routes.MapPost(path, LoginAsync);
        }
    }

    /// <summary>The middleware: with auth on, anything but login needs a valid token (or the credentials).</summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (!_options.AuthEnabled || IsLogin(context.Request.Path))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        RequestParameters parameters;
        try
        {
            parameters = await RequestParameters.ReadAsync(context).ConfigureAwait(false);
        }
        catch (NacosRequestException error)
        {
            await Responses.Text(context, error.StatusCode, error.Message).ConfigureAwait(false);
            return;
        }

        var token = FindToken(context, parameters);
        string? refusal;
        if (token is not null)
        {
            refusal = _tokens.Check(token) switch
            {
                TokenService.TokenState.Valid => null,
                TokenService.TokenState.Expired => "token expired!",
                _ => "token invalid!",
            };
        }
        else
        {
            // Some clients send the credentials on every call instead of a token.
            refusal = _tokens.CheckCredentials(parameters["username"], parameters["password"]) ? null : "user not found!";
        }

        if (refusal is not null)
        {
            Log.Unauthorized(_logger, context.Request.Path.Value ?? string.Empty, refusal);
            await Responses.Text(context, StatusCodes.Status403Forbidden, refusal).ConfigureAwait(false);
            return;
        }

        var path = context.Request.Path.Value ?? string.Empty;
        if (_faults.DeniesPermission(path))
        {
            // core/.../auth/AbstractWebAuthFilter.java: the identity is valid, validateAuthority fails and the filter
            // answers resp.sendError(SC_FORBIDDEN, AuthResult.format()); NacosAuthPluginService.validateAuthority gives
            // code 403 and AbstractAuthenticationManager.authorize the message "authorization failed!".
            Log.PermissionDenied(_logger, path);
            await Responses.SpringError(context, StatusCodes.Status403Forbidden, "Forbidden", "Code: 403, Message: authorization failed!.", _options.TimeProvider.GetUtcNow()).ConfigureAwait(false);
            return;
        }

        await next(context).ConfigureAwait(false);
    }

    private static bool IsLogin(PathString path)
    {
        foreach (var login in LoginPaths)
        {
            if (path.Equals(login, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static string? FindToken(HttpContext context, RequestParameters parameters)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && authorization.Length > 7)
        {
            return authorization[7..].Trim();
        }

        if (parameters["accessToken"] is { Length: > 0 } fromParameters)
        {
            return fromParameters;
        }

        return context.Request.Headers["accessToken"].ToString() is { Length: > 0 } fromHeader ? fromHeader : null;
    }

    private async Task LoginAsync(HttpContext context)
    {
        RequestParameters parameters;
        try
        {
            parameters = await RequestParameters.ReadAsync(context).ConfigureAwait(false);
        }
        catch (NacosRequestException error)
        {
            await Responses.Text(context, error.StatusCode, error.Message).ConfigureAwait(false);
            return;
        }

        var userName = parameters["username"];
        if (!_tokens.CheckCredentials(userName, parameters["password"]))
        {
            Log.LoginFailed(_logger, userName ?? "(none)");
            await Responses.Text(context, StatusCodes.Status403Forbidden, "unknown user!").ConfigureAwait(false);
            return;
        }

        var token = _tokens.Issue(userName!);
        Log.LoginSucceeded(_logger, userName!);
        context.Response.Headers.Authorization = "Bearer " + token;
        await Responses.Json(context, StatusCodes.Status200OK, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("accessToken", token);
            writer.WriteNumber("tokenTtl", (long)_options.TokenTtl.TotalSeconds);
            writer.WriteBoolean("globalAdmin", false);
            writer.WriteString("username", userName);
            writer.WriteEndObject();
        }).ConfigureAwait(false);
    }
}
