using System.Text.Json;
using GrayRelease.Nacos.Emulator.Config;
using GrayRelease.Nacos.Emulator.Diagnostics;
using GrayRelease.Nacos.Emulator.Grpc;
using GrayRelease.Nacos.Emulator.Http;
using GrayRelease.Nacos.Emulator.Naming;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Emulator.Profiles;

/// <summary>
/// The v3 client HTTP API of 3.0+ (naming/controllers/v3/InstanceOpenApiController.java,
/// config/server/controller/v3/ConfigOpenApiController.java): <c>Result {code, message, data}</c>; no subscribe,
/// no listen, no publish (those are gRPC only).
/// </summary>
internal sealed class ClientApiV3
{
    private const string InstancePath = "/nacos/v3/client/ns/instance";

    private readonly NamingStore _naming;
    private readonly ConfigStore _configs;
    private readonly NacosEmulatorOptions _options;
    private readonly ILogger _logger;

    public ClientApiV3(NamingStore naming, ConfigStore configs, NacosEmulatorOptions options, ILogger logger)
    {
        _naming = naming;
        _configs = configs;
        _options = options;
        _logger = logger;
    }

    public void Map(IEndpointRouteBuilder routes)
    {
        // InstanceOpenApiController: NamingDefaultHttpParamExtractor on the class, NamingInstanceListHttpParamExtractor on list.
        routes.MapPost(InstancePath, Naming(RegisterAsync, NamingParamCheck.Extractor.Default));
        routes.MapDelete(InstancePath, Naming(DeregisterAsync, NamingParamCheck.Extractor.Default));
        routes.MapGet(InstancePath + "/list", Naming(ListAsync, NamingParamCheck.Extractor.List));
        routes.MapGet("/nacos/v3/client/cs/config", ConfigAsync);
    }

    /// <summary>
    /// core/paramcheck/ParamCheckerFilter.java runs before the controller (plain-text 400, as on v1/v2); then
    /// core/exception/NacosApiExceptionHandler.java: HTTP status + <c>{code, message: abstract, data: detail}</c>.
    /// </summary>
    private RequestDelegate Naming(Func<HttpContext, RequestParameters, Task> handler, NamingParamCheck.Extractor extractor) => async context =>
    {
        try
        {
            var parameters = await RequestParameters.ReadAsync(context).ConfigureAwait(false);
            if (NamingParamCheck.Filter(parameters, extractor) is { } refusal)
            {
                Log.ParamCheckRefused(_logger, context.Request.Path.Value ?? string.Empty, refusal);
                await Responses.ParamCheckRefusal(context, refusal).ConfigureAwait(false);
                return;
            }

            await handler(context, parameters).ConfigureAwait(false);
        }
        catch (V3Exception error)
        {
            await Result(context, error.Status, error.Code, error.Abstract, error.Message).ConfigureAwait(false);
        }
        catch (NacosRequestException error)
        {
            // NacosApiException (e.g. NamingUtils.checkInstanceIsLegal: 400 / 21004 "instance error") keeps its own codes.
            await Result(context, error.StatusCode, error.Code, error.Abstract ?? "parameter missing", error.Message).ConfigureAwait(false);
        }
    };

    private static Task Result(HttpContext context, int status, int code, string message, string? data) =>
        Responses.Json(context, status, writer =>
        {
            writer.WriteStartObject();
            writer.WriteNumber("code", code);
            writer.WriteString("message", message);
            if (data is null)
            {
                writer.WriteNull("data");
            }
            else
            {
                writer.WriteString("data", data);
            }

            writer.WriteEndObject();
        });

    private static Task Ok(HttpContext context) => Responses.Envelope(context, static writer => writer.WriteStringValue("ok"));

    private static string Required(RequestParameters parameters, string name) =>
        parameters[name] is { Length: > 0 } value
            ? value
            : throw new V3Exception(StatusCodes.Status400BadRequest, 10000, "parameter missing", $"Required parameter '{name}' type String is not present");

    private static ServiceKey Service(RequestParameters parameters)
    {
        var serviceName = Required(parameters, "serviceName");
        return ServiceKey.Create(parameters["namespaceId"], serviceName, parameters["groupName"])
            ?? throw new V3Exception(StatusCodes.Status400BadRequest, 10000, "parameter missing", $"Param 'serviceName' is illegal: {serviceName}");
    }

    private static (string Ip, int Port) Address(RequestParameters parameters)
    {
        var ip = Required(parameters, "ip");
        var portText = Required(parameters, "port");
        return int.TryParse(portText, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var port) && port is >= 0 and <= 65535
            ? (ip, port)
            : throw new V3Exception(StatusCodes.Status400BadRequest, 10000, "parameter missing", $"Param 'port' is invalid: {portText}");
    }

    /// <summary>Register, or beat with heartBeat=true: an unknown instance is HTTP 200 code 21003 (register again).</summary>
    private Task RegisterAsync(HttpContext context, RequestParameters parameters)
    {
        var key = Service(parameters);
        var (ip, port) = Address(parameters);
        if (Parameters.Bool(parameters["heartBeat"], false))
        {
            return _naming.Beat(key, ip, port, fullBeat: null) is null
                ? Result(context, StatusCodes.Status200OK, 21003, "instance not found", null)
                : Ok(context);
        }

        double weight;
        try
        {
            weight = Parameters.Weight(parameters);
        }
        catch (NacosRequestException)
        {
            // naming/model/form/InstanceForm.java: WEIGHT_ERROR.
            throw new V3Exception(StatusCodes.Status400BadRequest, 21001, "weight error", "instance format invalid: The weights range from 0.0 to 10000.0");
        }

        IReadOnlyDictionary<string, string> metadata;
        try
        {
            metadata = Parameters.Metadata(parameters["metadata"]);
        }
        catch (NacosRequestException)
        {
            throw new V3Exception(StatusCodes.Status400BadRequest, 21002, "instance metadata error", "instance metadata is invalid: " + parameters["metadata"]);
        }

        var cluster = parameters["clusterName"];
        var registration = new InstanceRegistration
        {
            Ip = ip,
            Port = port,
            Weight = weight,
            Healthy = Parameters.Bool(parameters["healthy"], true),
            Enabled = Parameters.Bool(parameters["enabled"], true),
            Ephemeral = Parameters.Bool(parameters["ephemeral"], true),
            ClusterName = string.IsNullOrWhiteSpace(cluster) ? InstanceRegistration.DefaultCluster : cluster,
            Metadata = metadata,
        };

        // core/InstanceOperatorClientImpl.java registerInstance: NamingUtils.checkInstanceIsLegal, as on v1 / v2 / gRPC.
        NamingParamCheck.CheckInstance(registration);
        _naming.Register(key, registration);
        Log.InstanceRegistered(_logger, key.NamespaceId, key.GroupedName, ip, port);
        return Ok(context);
    }

    private Task DeregisterAsync(HttpContext context, RequestParameters parameters)
    {
        var key = Service(parameters);
        var (ip, port) = Address(parameters);
        if (_naming.DeregisterHttp(key, ip, port))
        {
            Log.InstanceDeregistered(_logger, key.NamespaceId, key.GroupedName, ip, port);
        }

        return Ok(context);
    }

    /// <summary>naming/model/form/InstanceListForm.java: no clusterName means cluster DEFAULT only; healthyOnly is ignored.</summary>
    private Task ListAsync(HttpContext context, RequestParameters parameters)
    {
        var key = Service(parameters);
        var cluster = parameters["clusterName"];
        var hosts = _naming.Select(key, string.IsNullOrWhiteSpace(cluster) ? InstanceRegistration.DefaultCluster : cluster, healthyOnly: false);
        return Responses.Envelope(context, writer =>
        {
            writer.WriteStartArray();
            foreach (var host in hosts)
            {
                ServiceInfoWriter.WriteInstance(writer, host);
            }

            writer.WriteEndArray();
        });
    }

    /// <summary>
    /// ConfigOpenApiController.getConfig: <c>data</c> is the gRPC ConfigQueryResponse through Spring's mapper (nulls kept);
    /// not found is HTTP 200 code 20004; a missing parameter is a plain-text 400 (config/server/exception/GlobalExceptionHandler.java).
    /// </summary>
    private async Task ConfigAsync(HttpContext context)
    {
        var parameters = await RequestParameters.ReadAsync(context).ConfigureAwait(false);
        foreach (var name in (ReadOnlySpan<string>)["dataId", "groupName"])
        {
            if (string.IsNullOrEmpty(parameters[name]))
            {
                await Responses.Text(context, StatusCodes.Status400BadRequest, $"caused: Required parameter '{name}' type String is not present;").ConfigureAwait(false);
                return;
            }
        }

        var entry = _configs.Get(ConfigKey.Create(parameters["namespaceId"], parameters["groupName"]!, parameters["dataId"]!));
        if (entry is null)
        {
            await Result(context, StatusCodes.Status200OK, 20004, "resource not found", null).ConfigureAwait(false);
            return;
        }

        await Responses.Envelope(context, writer =>
        {
            writer.WriteStartObject();
            writer.WriteNumber("resultCode", 200);
            writer.WriteNumber("errorCode", 0);
            writer.WriteNull("message");
            writer.WriteNull("requestId");
            writer.WriteString("content", entry.Content);
            writer.WriteString("encryptedDataKey", string.Empty);
            writer.WriteString("contentType", entry.Type);
            writer.WriteString("md5", entry.Md5);
            writer.WriteNumber("lastModified", entry.LastModified.ToUnixTimeMilliseconds());
            writer.WriteNull("tag");
            writer.WriteBoolean("beta", false);
            writer.WriteBoolean("success", true);
            writer.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private sealed class V3Exception : Exception
    {
        public V3Exception(int status, int code, string @abstract, string detail)
            : base(detail)
        {
            Status = status;
            Code = code;
            Abstract = @abstract;
        }

        public V3Exception()
        {
        }

        public V3Exception(string message)
            : base(message)
        {
        }

        public V3Exception(string message, Exception innerException)
            : base(message, innerException)
        {
        }

        public int Status { get; }

        public int Code { get; }

        public string Abstract { get; } = string.Empty;
    }
}
