using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Http;

namespace GrayRelease.Nacos.Naming;

/// <summary>
/// The v3 client HTTP API (naming/.../controllers/v3/InstanceOpenApiController.java), for 3.x servers without the v1
/// API when gRPC cannot be used: register (and heartbeat: the same POST with <c>heartBeat=true</c>), deregister, list.
/// It has no subscription and no push ("please use gRPC request to subscribe service"), so lists are polled every
/// <see cref="NacosOptions.V3PollInterval"/>.
/// </summary>
internal sealed partial class NacosNamingClient
{
    private const string V3InstancePath = "v3/client/ns/instance";

    /// <summary>api/.../model/v2/ErrorCode.java INSTANCE_NOT_FOUND: the answer (HTTP 200) to a heartbeat for an unknown instance.</summary>
    private const int V3InstanceNotFound = 21003;

    private int _v3;

    /// <summary>True once a server answered that it has no v1 API (or the transport choice found that out).</summary>
    public bool UsesV3 => Volatile.Read(ref _v3) != 0;

    /// <summary>Speaks the v3 client API from now on; logged once.</summary>
    internal void UseV3(string why)
    {
        // Registration and discovery (or two configs) may find v1 gone at once: one switch, one log line.
        if (Interlocked.Exchange(ref _v3, 1) == 0)
        {
            Log.V3ApiChosen(_logger, "naming", why, options.V3PollInterval);
        }
    }

    /// <summary>A v1 call: its answer, or (when the server has no v1 API: 404 / 410) the error that says so.</summary>
    private async Task<(NacosResponse? Response, NacosProtocolException? Gone)> SendV1Async(NacosRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);

            // Register, deregister and list never answer 404 on a server that has them (an unknown service lists empty).
            return response.StatusCode != HttpStatusCode.NotFound
                ? (response, null)
                : (null, new NacosProtocolException(
                    $"Nacos server {response.Server} answered 404 to {request.Method} {request.Path}: it serves no v1 Open API (a Nacos 3.2+ server, or a wrong context path or proxy: check nacos:ServerAddresses). Body: {Truncate(response.Body)}")
                {
                    StatusCode = 404,
                });
        }
        catch (NacosProtocolException ex) when (ex.StatusCode == 410)
        {
            return (null, ex);
        }
    }

    /// <summary>
    /// The first v3 call after v1 was found gone: switches for good when the server answers it (any answer but a 404);
    /// a 404 there too leaves <paramref name="v1Error"/> as the error.
    /// </summary>
    private async Task<T> FirstV3CallAsync<T>(NacosRequest v1, NacosProtocolException v1Error, Func<Task<T>> call)
    {
        var why = $"{v1.Method} {v1.Path} answered {v1Error.StatusCode} ({NacosV3Api.V1GoneReason})";
        try
        {
            var result = await call().ConfigureAwait(false);
            UseV3(why);
            return result;
        }
        catch (NacosProtocolException ex) when (ex.StatusCode == 404)
        {
            throw new NacosProtocolException(v1Error.Message + " The v3 client API (" + V3InstancePath + ") answered 404 too.", v1Error) { StatusCode = v1Error.StatusCode };
        }
        catch (NacosProtocolException)
        {
            // The v3 API answered (and refused this call): it is there.
            UseV3(why);
            throw;
        }
    }

    private Task<bool> FirstV3CallAsync(NacosRequest v1, NacosProtocolException v1Error, Func<Task> call) => FirstV3CallAsync(v1, v1Error, async () =>
    {
        await call().ConfigureAwait(false);
        return true;
    });

    private NacosRequest V3InstanceRequest(HttpMethod method, NacosRegistration registration) =>
        new NacosRequest(method, V3InstancePath)
            .WithQuery("serviceName", registration.ServiceName)
            .WithQuery("groupName", registration.GroupName)
            .WithQuery("namespaceId", NamespaceId)
            .WithQuery("clusterName", registration.ClusterName)
            .WithQuery("ip", registration.Ip)
            .WithQuery("port", registration.Port.ToString(CultureInfo.InvariantCulture));

    private async Task<bool> V3RegisterAsync(NacosRegistration registration, bool heartBeat, CancellationToken cancellationToken)
    {
        var request = V3InstanceRequest(HttpMethod.Post, registration);
        if (heartBeat)
        {
            // InstanceOpenApiController.register → doHeartBeat reads only the instance's identity.
            request.WithQuery("heartBeat", "true");
        }
        else
        {
            // model/form/InstanceForm.java: weight, healthy, enabled, ephemeral, metadata (JSON).
            request.WithQuery("weight", registration.Weight.ToString(CultureInfo.InvariantCulture))
                .WithQuery("enabled", registration.Enabled ? "true" : "false")
                .WithQuery("healthy", "true")
                .WithQuery("ephemeral", registration.Ephemeral ? "true" : "false")
                .WithQuery("metadata", JsonSerializer.Serialize(registration.Metadata));
        }

        var what = heartBeat ? "heartbeat" : "register";
        var (code, message, _, server) = await NacosV3Api.CallAsync(http, request, what, cancellationToken).ConfigureAwait(false);
        return code switch
        {
            0 => true,
            V3InstanceNotFound when heartBeat => false,
            _ => throw NacosV3Api.Refused(server, what, code, message),
        };
    }

    private async Task<NacosBeatResult> V3BeatAsync(NacosRegistration registration, CancellationToken cancellationToken) =>
        await V3RegisterAsync(registration, heartBeat: true, cancellationToken).ConfigureAwait(false)
            ? new NacosBeatResult(null, NacosBeatResult.Ok, false)
            : new NacosBeatResult(null, NacosBeatResult.UnknownInstance, false);

    private async Task V3DeregisterAsync(NacosRegistration registration, CancellationToken cancellationToken)
    {
        var request = V3InstanceRequest(HttpMethod.Delete, registration)
            .WithQuery("ephemeral", registration.Ephemeral ? "true" : "false");
        var (code, message, _, server) = await NacosV3Api.CallAsync(http, request, "deregister", cancellationToken).ConfigureAwait(false);
        if (code != 0)
        {
            throw NacosV3Api.Refused(server, "deregister", code, message);
        }
    }

    /// <summary>
    /// The list; <c>data</c> is the bare Instance array (enabled only), wrapped here into the list shape the cache and
    /// the snapshot read, with <see cref="NacosOptions.V3PollInterval"/> as its <c>cacheMillis</c>.
    /// </summary>
    private async Task<(NacosServiceInfo? Info, string Body)> V3ListAsync(string serviceName, string groupName, CancellationToken cancellationToken)
    {
        var request = new NacosRequest(HttpMethod.Get, V3InstancePath + "/list")
            .WithQuery("serviceName", serviceName)
            .WithQuery("groupName", groupName)
            .WithQuery("namespaceId", NamespaceId);
        if (V3Clusters is { Length: > 0 } clusters)
        {
            request.WithQuery("clusterName", clusters);
        }

        var (code, message, data, server) = await NacosV3Api.CallAsync(http, request, "list instances of " + serviceName, cancellationToken).ConfigureAwait(false);
        if (code != 0)
        {
            throw NacosV3Api.Refused(server, "list instances of " + serviceName, code, message);
        }

        if (data.ValueKind != JsonValueKind.Array)
        {
            return (null, data.ValueKind == JsonValueKind.Undefined ? string.Empty : data.GetRawText());
        }

        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("name", NacosNames.Grouped(serviceName, groupName));
            writer.WriteString("groupName", groupName);
            writer.WriteString("clusters", V3Clusters ?? string.Empty);
            writer.WriteNumber("cacheMillis", (long)options.V3PollInterval.TotalMilliseconds);
            writer.WriteNumber("lastRefTime", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            writer.WritePropertyName("hosts");
            data.WriteTo(writer);
            writer.WriteEndObject();
        }

        var body = Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        return (NacosJson.ParseServiceInfo(body), body);
    }

    /// <summary>
    /// model/form/InstanceListForm.java: no <c>clusterName</c> lists cluster DEFAULT only, and there is no "every
    /// cluster"; so DEFAULT plus this application's own cluster (a comma list, ServiceUtil.selectInstances).
    /// </summary>
    private string? V3Clusters =>
        string.IsNullOrEmpty(options.ClusterName) || string.Equals(options.ClusterName, "DEFAULT", StringComparison.Ordinal)
            ? null
            : "DEFAULT," + options.ClusterName;
}
