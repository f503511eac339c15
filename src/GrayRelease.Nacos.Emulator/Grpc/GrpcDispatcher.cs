using System.Text.Json;
using GrayRelease.Nacos.Emulator.Auth;
using GrayRelease.Nacos.Emulator.Diagnostics;
using GrayRelease.Nacos.Emulator.Grpc.Protocol;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Emulator.Grpc;

/// <summary>
/// The unary acceptor (core/remote/grpc/GrpcRequestAcceptor.java): ServerCheck → unknown type 302 → unregistered
/// connection 301 → unparsable body 502 → filters (auth 403, param check 400, in the handler's response type) →
/// handler; a handler's exception becomes an ErrorResponse whose resultCode is its code.
/// </summary>
internal sealed partial class GrpcDispatcher
{
    private readonly Dictionary<string, Handler> _handlers;
    private readonly GrpcConnections _connections;
    private readonly TokenService _tokens;
    private readonly NacosEmulatorOptions _options;
    private readonly ILogger _logger;
    private readonly NacosEmulatorFaults? _faults;

    public GrpcDispatcher(GrpcConnections connections, GrpcNaming naming, GrpcConfig config, TokenService tokens, NacosEmulatorOptions options, ILogger logger, NacosEmulatorFaults? faults = null)
    {
        _faults = faults;
        _connections = connections;
        _tokens = tokens;
        _options = options;
        _logger = logger;
        _handlers = new Dictionary<string, Handler>(StringComparer.Ordinal)
        {
            // core/remote/HealthCheckRequestHandler.java: not secured.
            ["HealthCheckRequest"] = new("HealthCheckResponse", Secured: false, static _ => null, static _ => GrpcJson.Success(), null),
            ["InstanceRequest"] = new("InstanceResponse", true, GrpcNaming.CheckInstance, naming.Instance, null),
            ["BatchInstanceRequest"] = new("BatchInstanceResponse", true, GrpcNaming.CheckBatch, naming.BatchInstance, null),
            ["PersistentInstanceRequest"] = new("InstanceResponse", true, GrpcNaming.CheckInstance, naming.PersistentInstance, null),
            ["SubscribeServiceRequest"] = new("SubscribeServiceResponse", true, GrpcNaming.CheckSubscribe, naming.Subscribe, null),
            ["ServiceQueryRequest"] = new("QueryServiceResponse", true, GrpcNaming.CheckQuery, naming.Query, null),
            ["ConfigBatchListenRequest"] = new("ConfigChangeBatchListenResponse", true, GrpcConfig.CheckListen, config.BatchListen, GrpcConfig.ListenFailureFields),
            ["ConfigQueryRequest"] = new("ConfigQueryResponse", true, GrpcConfig.CheckKey, config.Query, GrpcConfig.QueryFailureFields),
            ["ConfigPublishRequest"] = new("ConfigPublishResponse", true, GrpcConfig.CheckKey, config.Publish, null),
            ["ConfigRemoveRequest"] = new("ConfigRemoveResponse", true, GrpcConfig.CheckKey, config.Remove, null),
        };
    }

    public Payload Handle(Payload request, GrpcConnection? connection)
    {
        var type = request.Metadata?.Type ?? string.Empty;
        if (string.Equals(type, "ServerCheckRequest", StringComparison.Ordinal))
        {
            return GrpcJson.ToPayload("ServerCheckResponse", GrpcJson.Success(writer =>
            {
                writer.WriteString("connectionId", connection?.Id);
                writer.WriteBoolean("supportAbilityNegotiation", true);
            }));
        }

        if (!_handlers.TryGetValue(type, out var handler))
        {
            Log.GrpcNoHandler(_logger, type);
            return GrpcJson.Error(GrpcJson.ResultFail, 302, "RequestHandler Not Found");
        }

        if (connection is null || !connection.Registered || connection.IsClosed)
        {
            return GrpcJson.Error(GrpcJson.ResultFail, 301, "Connection is unregistered.");
        }

        JsonDocument document;
        try
        {
            var bytes = request.Body?.Value;
            document = JsonDocument.Parse(bytes is null ? ReadOnlyMemory<byte>.Empty : bytes.Memory);
        }
        catch (JsonException exception)
        {
            return GrpcJson.Error(GrpcJson.ResultFail, 502, "Nacos deserialize for class [" + type + "] failed, cause error[" + exception.Message + "]");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return GrpcJson.Error(GrpcJson.ResultFail, 502, "Invalid request");
            }

            // "headers":null really nulls the server's map: merging Metadata.headers into it throws (in the acceptor, 502),
            // and with nothing to merge a later read of it does (500). Seen with the 3.1 classes (PROTOCOL-GRPC.md §2).
            if (root.TryGetProperty("headers", out var nullHeaders) && nullHeaders.ValueKind == JsonValueKind.Null)
            {
                return request.Metadata?.Headers.Count > 0
                    ? GrpcJson.Error(GrpcJson.ResultFail, 502, "java.lang.NullPointerException")
                    : GrpcJson.Error(GrpcJson.ResultFail, 500, "java.lang.NullPointerException");
            }

            connection.Touch(_options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds());
            var headers = Headers(request, root);
            if (handler.Secured && _options.AuthEnabled && Authenticate(headers) is { } refusal)
            {
                Log.Unauthorized(_logger, "gRPC " + type, refusal);
                return Failure(handler, 403, refusal);
            }

            if (handler.Secured && _options.AuthEnabled && _faults?.DeniesPermission(type) == true)
            {
                // A valid identity without the permission: AbstractAuthenticationManager.authorize → NacosAuthPluginService.
                Log.Unauthorized(_logger, "gRPC " + type, "authorization failed!");
                return Failure(handler, 403, "Code: 403, Message: authorization failed!.");
            }

            if (_faults?.TakeGrpcFailure(type) == true)
            {
                // NacosEmulatorFaults.FailNextGrpcRequests: as a handler that threw (RequestHandler.handleRequest → 500).
                return Failure(handler, 500, "injected failure (NacosEmulatorFaults.FailNextGrpcRequests)");
            }

            if (handler.ParamCheck(root) is { } invalid)
            {
                return Failure(handler, 400, GrpcParamCheck.Prefix + invalid);
            }

            try
            {
                var context = new GrpcCall(connection, root, headers);
                return GrpcJson.ToPayload(handler.ResponseType, handler.Handle(context));
            }
            catch (GrpcHandlerException exception)
            {
                return exception.Typed
                    ? Failure(handler, exception.Code, exception.Message)
                    : GrpcJson.Error(exception.Code, exception.Code, exception.Message);
            }
        }
    }

    private static Payload Failure(Handler handler, int errorCode, string message) =>
        GrpcJson.ToPayload(handler.ResponseType, GrpcJson.Response(GrpcJson.ResultFail, errorCode, message, null, handler.FailureFields));

    /// <summary>Request.getHeaders(): the body's headers plus Metadata.headers, keys case-insensitive (api/remote/request/Request.java).</summary>
    private static Dictionary<string, string> Headers(Payload request, JsonElement root)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (GrpcJson.StringMap(root, "headers") is { } fromBody)
        {
            foreach (var (key, value) in fromBody)
            {
                headers[key] = value;
            }
        }

        if (request.Metadata is { } metadata)
        {
            foreach (var (key, value) in metadata.Headers)
            {
                headers[key] = value;
            }
        }

        return headers;
    }

    /// <summary>
    /// RemoteRequestAuthFilter.java + the default auth plugin: <c>accessToken</c> (or <c>Authorization: Bearer</c>, or
    /// username + password); refusals read <c>Code: 401, Message: …!.</c> (AbstractAuthenticationManager.java).
    /// </summary>
    private string? Authenticate(Dictionary<string, string> headers)
    {
        var token = headers.GetValueOrDefault("accessToken");
        if (string.IsNullOrEmpty(token) && headers.GetValueOrDefault("Authorization") is { } authorization
            && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            token = authorization[7..].Trim();
        }

        string? reason;
        if (!string.IsNullOrEmpty(token))
        {
            reason = _tokens.Check(token) switch
            {
                TokenService.TokenState.Valid => null,
                TokenService.TokenState.Expired => "token expired!",
                _ => "token invalid!",
            };
        }
        else if (headers.GetValueOrDefault("username") is { Length: > 0 } userName)
        {
            reason = _tokens.CheckCredentials(userName, headers.GetValueOrDefault("password")) ? null : "user not found!";
        }
        else
        {
            reason = "User not found! Please check user exist or password is right!";
        }

        return reason is null ? null : "Code: 401, Message: " + reason + ".";
    }

    /// <param name="ResponseType">The Java simple name of the handler's response class.</param>
    /// <param name="Secured">Whether the handler is <c>@Secured</c> (auth applies).</param>
    /// <param name="ParamCheck">The param check's failure message, or null.</param>
    /// <param name="Handle">The handler: the response body.</param>
    /// <param name="FailureFields">The fields the response class has by default (written in filter failures too).</param>
    private sealed record Handler(
        string ResponseType,
        bool Secured,
        Func<JsonElement, string?> ParamCheck,
        Func<GrpcCall, byte[]> Handle,
        Action<System.Text.Json.Utf8JsonWriter>? FailureFields);
}

/// <summary>One unary call as a handler sees it.</summary>
internal sealed record GrpcCall(GrpcConnection Connection, JsonElement Body, IReadOnlyDictionary<string, string> Headers);

/// <summary>
/// A handler's refusal: an ErrorResponse with resultCode = errorCode = <see cref="Code"/> (ErrorResponse.build), or,
/// when <see cref="Typed"/>, the handler's own response type with resultCode 500.
/// </summary>
internal sealed class GrpcHandlerException : Exception
{
    public GrpcHandlerException(int code, string message, bool typed = false)
        : base(message)
    {
        Code = code;
        Typed = typed;
    }

    public GrpcHandlerException()
    {
    }

    public GrpcHandlerException(string message)
        : base(message)
    {
    }

    public GrpcHandlerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public int Code { get; } = 500;

    public bool Typed { get; }

    /// <summary>common/exception/NacosRuntimeException.java formats its message as <c>errCode: N, errMsg: … </c>.</summary>
    public static GrpcHandlerException Runtime(int code, string message) => new(code, "errCode: " + code + ", errMsg: " + message + " ");
}
