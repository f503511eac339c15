using System.Net;
using System.Text.Json;
using GrayRelease.Nacos.Emulator.Diagnostics;
using GrayRelease.Nacos.Emulator.Http;
using GrayRelease.Nacos.Emulator.Push;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Emulator.Naming;

/// <summary>
/// The naming Open API, v1 (<c>/nacos/v1/ns/instance...</c>, plain-text errors) and v2
/// (<c>/nacos/v2/ns/instance...</c>, <c>{code,message,data}</c> envelope), as InstanceController(V2) answers.
/// </summary>
internal sealed class NamingApi
{
    private const int BeatOk = 10200;
    private const int BeatUnknownInstance = 20404;

    private static readonly Lazy<HashSet<IPAddress>> LocalAddressSet = new(ReadLocalAddresses);

    private readonly NamingStore _store;
    private readonly UdpPushService _push;
    private readonly NacosEmulatorOptions _options;
    private readonly ILogger _logger;

    public NamingApi(NamingStore store, UdpPushService push, NacosEmulatorOptions options, ILogger logger)
    {
        _store = store;
        _push = push;
        _options = options;
        _logger = logger;
    }

    public void Map(IEndpointRouteBuilder routes)
    {
        foreach (var v2 in (ReadOnlySpan<bool>)[false, true])
        {
            var prefix = v2 ? "/nacos/v2/ns/instance" : "/nacos/v1/ns/instance";
            routes.MapPost(prefix, Handle(RegisterAsync, v2, NamingParamCheck.Extractor.Default));
            routes.MapDelete(prefix, Handle(DeregisterAsync, v2, NamingParamCheck.Extractor.Default));
            routes.MapPut(prefix, Handle(UpdateAsync, v2, NamingParamCheck.Extractor.Default));
            routes.MapGet(prefix, Handle(DetailAsync, v2, NamingParamCheck.Extractor.Default));
            routes.MapPut(prefix + "/beat", Handle(BeatAsync, v2, NamingParamCheck.Extractor.Beat));
            routes.MapGet(prefix + "/list", Handle(ListAsync, v2, NamingParamCheck.Extractor.List));
        }
    }

    private RequestDelegate Handle(Func<HttpContext, RequestParameters, bool, Task> handler, bool v2, NamingParamCheck.Extractor extractor) => async context =>
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

            await handler(context, parameters, v2).ConfigureAwait(false);
        }
        catch (NacosRequestException error)
        {
            await (v2 ? Responses.EnvelopeError(context, error) : Responses.Text(context, error.StatusCode, error.Message)).ConfigureAwait(false);
        }
    };

    private static Task Ok(HttpContext context, bool v2) => v2
        ? Responses.Envelope(context, static writer => writer.WriteStringValue("ok"))
        : Responses.Text(context, StatusCodes.Status200OK, "ok");

    private static ServiceKey Service(RequestParameters parameters, bool v2)
    {
        var serviceName = Parameters.Required(parameters, "serviceName", v2);
        return ServiceKey.Create(parameters["namespaceId"], serviceName, parameters["groupName"])
            ?? throw NacosRequestException.Invalid(
                $"Param 'serviceName' is illegal, it should be format as 'groupName@@serviceName': {serviceName}");
    }

    private static string Cluster(RequestParameters parameters)
    {
        var cluster = parameters["clusterName"];
        if (string.IsNullOrWhiteSpace(cluster))
        {
            cluster = parameters["cluster"];
        }

        return string.IsNullOrWhiteSpace(cluster) ? InstanceRegistration.DefaultCluster : cluster;
    }

    private Task RegisterAsync(HttpContext context, RequestParameters parameters, bool v2)
    {
        var service = Service(parameters, v2);
        var registration = new InstanceRegistration
        {
            Ip = Parameters.Required(parameters, "ip", v2),
            Port = Parameters.Port(parameters, v2),
            Weight = Parameters.Weight(parameters),
            Healthy = Parameters.Bool(parameters["healthy"], true),
            Enabled = Parameters.Enabled(parameters),
            Ephemeral = Parameters.Bool(parameters["ephemeral"], true),
            ClusterName = Cluster(parameters),
            Metadata = Parameters.Metadata(parameters["metadata"]),
        };
        NamingParamCheck.CheckInstance(registration);
        _store.Register(service, registration);
        Log.InstanceRegistered(_logger, service.NamespaceId, service.GroupedName, registration.Ip, registration.Port);
        return Ok(context, v2);
    }

    private Task DeregisterAsync(HttpContext context, RequestParameters parameters, bool v2)
    {
        var service = Service(parameters, v2);
        var ip = Parameters.Required(parameters, "ip", v2);
        var port = Parameters.Port(parameters, v2);
        if (_store.DeregisterHttp(service, ip, port))
        {
            Log.InstanceDeregistered(_logger, service.NamespaceId, service.GroupedName, ip, port);
        }

        // The real server answers ok for an unknown instance too.
        return Ok(context, v2);
    }

    private Task UpdateAsync(HttpContext context, RequestParameters parameters, bool v2)
    {
        var service = Service(parameters, v2);
        var ip = Parameters.Required(parameters, "ip", v2);
        var port = Parameters.Port(parameters, v2);
        double? weight = parameters["weight"] is { Length: > 0 } ? Parameters.Weight(parameters) : null;
        bool? enabled = parameters["enabled"] is { Length: > 0 } || parameters["enable"] is { Length: > 0 }
            ? Parameters.Enabled(parameters)
            : null;
        var metadata = parameters["metadata"] is { Length: > 0 } text ? Parameters.Metadata(text) : null;
        var found = _store.Update(service, ip, port, entry =>
        {
            var changed = false;
            if (weight is { } w && entry.Weight != w)
            {
                entry.Weight = w;
                changed = true;
            }

            if (enabled is { } e && entry.Enabled != e)
            {
                entry.Enabled = e;
                changed = true;
            }

            if (metadata is not null && !NamingStore.SameMetadata(entry.Metadata, metadata))
            {
                entry.Metadata = metadata;
                changed = true;
            }

            return changed;
        });
        if (!found)
        {
            throw NacosRequestException.NotFound($"instance not found: {ip}:{port} in service {service.GroupedName}");
        }

        return Ok(context, v2);
    }

    private Task DetailAsync(HttpContext context, RequestParameters parameters, bool v2)
    {
        var service = Service(parameters, v2);
        var ip = Parameters.Required(parameters, "ip", v2);
        var port = Parameters.Port(parameters, v2);
        var cluster = Cluster(parameters);
        var instance = _store.Find(service, ip, port);
        if (instance is null || !string.Equals(instance.ClusterName, cluster, StringComparison.Ordinal))
        {
            throw NacosRequestException.NotFound("no matched ip found!");
        }

        if (v2)
        {
            return Responses.Envelope(context, writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("serviceName", service.GroupedName);
                writer.WriteString("ip", instance.Ip);
                writer.WriteNumber("port", instance.Port);
                writer.WriteString("clusterName", instance.ClusterName);
                writer.WriteJavaDouble("weight", instance.Weight);
                writer.WriteBoolean("healthy", instance.Healthy);
                writer.WriteString("instanceId", instance.InstanceId);
                writer.WriteStringMap("metadata", instance.Metadata);
                writer.WriteEndObject();
            });
        }

        return Responses.Json(context, StatusCodes.Status200OK, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("service", service.GroupedName);
            writer.WriteString("ip", instance.Ip);
            writer.WriteNumber("port", instance.Port);
            writer.WriteString("clusterName", instance.ClusterName);
            writer.WriteJavaDouble("weight", instance.Weight);
            writer.WriteBoolean("healthy", instance.Healthy);
            writer.WriteString("instanceId", instance.InstanceId);
            writer.WriteStringMap("metadata", instance.Metadata);
            writer.WriteEndObject();
        });
    }

    /// <summary>
    /// The beat answer is the same bare object on v1 and v2 (the real InstanceControllerV2.beat has no envelope).
    /// </summary>
    private Task BeatAsync(HttpContext context, RequestParameters parameters, bool v2)
    {
        var service = Service(parameters, v2);
        var ip = parameters["ip"] ?? string.Empty;
        var port = Parameters.OptionalInt(parameters, "port", 0);
        InstanceRegistration? fullBeat = null;
        if (parameters["beat"] is { Length: > 0 } beatText && !string.IsNullOrWhiteSpace(beatText))
        {
            fullBeat = ParseBeat(beatText, Cluster(parameters));

            // A full beat for a forgotten instance registers it, with the same checks as a register call.
            NamingParamCheck.CheckInstance(fullBeat);
            ip = fullBeat.Ip;
            port = fullBeat.Port;
        }

        var instance = _store.Beat(service, ip, port, fullBeat);
        var interval = instance is null
            ? _options.ClientBeatIntervalMillis
            : InstanceTimeouts.For(instance.Metadata, _options).BeatIntervalMillis;
        if (instance is null)
        {
            Log.BeatForUnknownInstance(_logger, service.GroupedName, ip, port);
        }

        return Responses.Json(context, StatusCodes.Status200OK, writer =>
        {
            writer.WriteStartObject();
            writer.WriteNumber("clientBeatInterval", interval);
            writer.WriteNumber("code", instance is null ? BeatUnknownInstance : BeatOk);
            writer.WriteBoolean("lightBeatEnabled", true);
            writer.WriteEndObject();
        });
    }

    private static InstanceRegistration ParseBeat(string text, string fallbackCluster)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw NacosRequestException.Invalid("Param 'beat' is not a JSON object.");
            }

            var ip = root.TryGetProperty("ip", out var ipElement) && ipElement.ValueKind == JsonValueKind.String
                ? ipElement.GetString() ?? string.Empty
                : string.Empty;
            var port = root.TryGetProperty("port", out var portElement) && portElement.ValueKind == JsonValueKind.Number
                && portElement.TryGetInt32(out var p) ? p : 0;
            var cluster = root.TryGetProperty("cluster", out var clusterElement) && clusterElement.ValueKind == JsonValueKind.String
                && !string.IsNullOrWhiteSpace(clusterElement.GetString())
                ? clusterElement.GetString()!
                : fallbackCluster;
            var weight = root.TryGetProperty("weight", out var weightElement) && weightElement.ValueKind == JsonValueKind.Number
                && weightElement.GetDouble() > 0 ? weightElement.GetDouble() : 1;
            var metadata = root.TryGetProperty("metadata", out var metadataElement) && metadataElement.ValueKind == JsonValueKind.Object
                ? Parameters.Metadata(metadataElement.GetRawText())
                : InstanceRegistration.EmptyMetadata;
            return new InstanceRegistration
            {
                Ip = ip,
                Port = port,
                Weight = Parameters.CheckWeight(weight),
                ClusterName = cluster,
                Metadata = metadata,
            };
        }
        catch (JsonException)
        {
            throw NacosRequestException.Invalid("Param 'beat' is not valid JSON.");
        }
    }

    private Task ListAsync(HttpContext context, RequestParameters parameters, bool v2)
    {
        var service = Service(parameters, v2);
        var clusters = (v2 ? parameters["clusterName"] : parameters["clusters"]) ?? string.Empty;
        var healthyOnly = bool.TryParse(parameters["healthyOnly"], out var h) && h;
        var udpPort = Parameters.OptionalInt(parameters, v2 ? "port" : "udpPort", 0);
        var clientIp = (v2 ? parameters["ip"] : parameters["clientIP"]) ?? string.Empty;
        if (udpPort is > 0 and <= 65535 && _options.PushEnabled)
        {
            TrySubscribe(context, service, clusters, clientIp, udpPort);
        }

        var hosts = _store.Select(service, clusters, healthyOnly);
        var lastRefTime = _options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var answer = JsonOutput.ToBytes(writer =>
            InstanceListWriter.WriteServiceInfo(writer, service, clusters, hosts, _options, lastRefTime));
        if (!v2)
        {
            return Responses.Json(context, StatusCodes.Status200OK, answer);
        }

        return Responses.Envelope(context, writer => writer.WriteRawValue(answer, skipInputValidation: true));
    }

    private void TrySubscribe(HttpContext context, ServiceKey service, string clusters, string clientIp, int udpPort)
    {
        var agent = context.Request.Headers.UserAgent.ToString();
        if (string.IsNullOrEmpty(agent))
        {
            agent = context.Request.Headers["Client-Version"].ToString();
        }

        if (!ClientAgent.CanPush(agent))
        {
            Log.PushNotEnabledForAgent(_logger, agent);
            return;
        }

        var caller = context.Connection.RemoteIpAddress;
        if (caller is { IsIPv4MappedToIPv6: true })
        {
            caller = caller.MapToIPv4();
        }

        IPAddress? target = caller;
        if (!string.IsNullOrWhiteSpace(clientIp))
        {
            if (IPAddress.TryParse(clientIp, out var requested)
                && (IPAddress.IsLoopback(requested) || requested.Equals(caller) || LocalAddresses.Contains(requested)))
            {
                target = requested;
            }
            else
            {
                // Never let a request aim datagrams at another host: push to the caller instead.
                Log.PushTargetReplaced(_logger, clientIp, caller?.ToString() ?? "(unknown)");
            }
        }

        if (target is not null)
        {
            _push.Subscribe(service, new IPEndPoint(target, udpPort), clusters, agent);
        }
    }

    private static HashSet<IPAddress> LocalAddresses => LocalAddressSet.Value;

    /// <summary>This machine's own addresses: clients often send their interface address as clientIP.</summary>
    private static HashSet<IPAddress> ReadLocalAddresses()
    {
        var result = new HashSet<IPAddress>();
        try
        {
            foreach (var networkInterface in System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces())
            {
                foreach (var unicast in networkInterface.GetIPProperties().UnicastAddresses)
                {
                    result.Add(unicast.Address);
                }
            }
        }
        catch (System.Net.NetworkInformation.NetworkInformationException)
        {
            // Without the list, only loopback and the caller's own address are pushed to.
        }

        return result;
    }
}
