using System.Globalization;
using System.Text.Json;
using GrayRelease.Nacos.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace GrayRelease.Nacos.Naming;

/// <summary>
/// The v1 naming calls. Every parameter goes in the query string, also for POST / PUT / DELETE, with an empty body:
/// that is what every official client sends and what 1.4 to 3.x servers all read. A server without the v1 API
/// (3.2+: 404; 3.0/3.1 with the client compatibility off: 410) is spoken to over its v3 client API instead
/// (<c>NacosNamingClient.V3.cs</c>), from the first call that finds v1 gone on.
/// </summary>
internal sealed partial class NacosNamingClient(NacosHttpClient http, NacosOptions options, ILogger? logger = null)
{
    private const string InstancePath = "v1/ns/instance";

    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    public string NamespaceId { get; } = options.NamingNamespace;

    public async Task RegisterAsync(NacosRegistration registration, CancellationToken cancellationToken)
    {
        if (UsesV3)
        {
            await V3RegisterAsync(registration, heartBeat: false, cancellationToken).ConfigureAwait(false);
            return;
        }

        var request = InstanceRequest(HttpMethod.Post, registration)
            .WithQuery("weight", registration.Weight.ToString(CultureInfo.InvariantCulture))
            .WithQuery("enabled", registration.Enabled ? "true" : "false")
            .WithQuery("enable", registration.Enabled ? "true" : "false")
            .WithQuery("healthy", "true")
            .WithQuery("ephemeral", registration.Ephemeral ? "true" : "false")
            .WithQuery("metadata", JsonSerializer.Serialize(registration.Metadata));
        var (response, gone) = await SendV1Async(request, cancellationToken).ConfigureAwait(false);
        if (response is { } answer)
        {
            EnsureSuccess(answer, "register");
            return;
        }

        await FirstV3CallAsync(request, gone!, () => V3RegisterAsync(registration, heartBeat: false, cancellationToken)).ConfigureAwait(false);
    }

    public async Task DeregisterAsync(NacosRegistration registration, CancellationToken cancellationToken)
    {
        if (UsesV3)
        {
            await V3DeregisterAsync(registration, cancellationToken).ConfigureAwait(false);
            return;
        }

        var request = InstanceRequest(HttpMethod.Delete, registration)
            .WithQuery("ephemeral", registration.Ephemeral ? "true" : "false");
        var (response, gone) = await SendV1Async(request, cancellationToken).ConfigureAwait(false);
        if (response is { } answer)
        {
            EnsureSuccess(answer, "deregister");
            return;
        }

        await FirstV3CallAsync(request, gone!, () => V3DeregisterAsync(registration, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>The parameters that name one instance, in the query string as every official client sends them.</summary>
    private NacosRequest InstanceRequest(HttpMethod method, NacosRegistration registration) =>
        new NacosRequest(method, InstancePath)
            .WithQuery("serviceName", registration.GroupedName)
            .WithQuery("groupName", registration.GroupName)
            .WithQuery("namespaceId", NamespaceId)
            .WithQuery("clusterName", registration.ClusterName)
            .WithQuery("ip", registration.Ip)
            .WithQuery("port", registration.Port.ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// Sends a heartbeat and returns its answer. A full beat carries the instance (a server re-creates an instance it
    /// forgot from it, but without <c>enabled</c>); a light beat names it only, so a server that forgot it answers
    /// 20404 and the caller registers the full instance again. Light beats are what the official clients send once the
    /// server answered <c>lightBeatEnabled</c> (client/.../beat/BeatReactor.java, NamingProxy.sendBeat); servers since
    /// 1.4 accept them (naming/.../controllers/InstanceController.java beat: <c>clientBeat == null</c>).
    /// </summary>
    public async Task<NacosBeatResult> BeatAsync(NacosRegistration registration, long periodMillis, bool light, CancellationToken cancellationToken)
    {
        if (UsesV3)
        {
            return await V3BeatAsync(registration, cancellationToken).ConfigureAwait(false);
        }

        var request = new NacosRequest(HttpMethod.Put, InstancePath + "/beat")
            .WithQuery("serviceName", registration.GroupedName)
            .WithQuery("groupName", registration.GroupName)
            .WithQuery("namespaceId", NamespaceId)
            .WithQuery("clusterName", registration.ClusterName)
            .WithQuery("ip", registration.Ip)
            .WithQuery("port", registration.Port.ToString(CultureInfo.InvariantCulture));
        if (!light)
        {
            request.WithQuery("beat", JsonSerializer.Serialize(new BeatInfo
            {
                ServiceName = registration.GroupedName,
                Ip = registration.Ip,
                Port = registration.Port,
                Cluster = registration.ClusterName,
                Weight = registration.Weight,
                Metadata = registration.Metadata,
                Scheduled = false,
                Period = periodMillis,
                Stopped = false,
            }));
        }

        var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccess)
        {
            // Some 1.x servers answer a beat for an unknown instance with 404 / 400 "instance not found".
            if ((int)response.StatusCode is 404 or 400 && response.Body.Contains("not found", StringComparison.OrdinalIgnoreCase))
            {
                return new NacosBeatResult(null, NacosBeatResult.UnknownInstance, false, Truncate(response.Body));
            }

            // A 500 to a beat is the server's answer for a service it no longer has ("service not found"), a fixed
            // per-request error: register again rather than wait for a server that is up.
            if ((int)response.StatusCode == NacosBeatResult.ServerRefused)
            {
                return new NacosBeatResult(null, NacosBeatResult.ServerRefused, false, Truncate(response.Body));
            }

            EnsureSuccess(response, "heartbeat");
        }

        return NacosBeatResult.Parse(response.Body)
            ?? throw new NacosProtocolException($"Nacos server {response.Server} answered the heartbeat with an unreadable body: {Truncate(response.Body)}");
    }

    /// <summary>Lists the instances of a service (all clusters); subscribes <paramref name="clientIp"/>:<paramref name="udpPort"/> to push when given.</summary>
    public async Task<(NacosServiceInfo? Info, string Body)> ListAsync(string serviceName, string groupName, int udpPort, string? clientIp, CancellationToken cancellationToken)
    {
        if (UsesV3)
        {
            return await V3ListAsync(serviceName, groupName, cancellationToken).ConfigureAwait(false);
        }

        var request = new NacosRequest(HttpMethod.Get, InstancePath + "/list")
            .WithQuery("serviceName", NacosNames.Grouped(serviceName, groupName))
            .WithQuery("groupName", groupName)
            .WithQuery("namespaceId", NamespaceId)
            .WithQuery("clusters", string.Empty)
            .WithQuery("healthyOnly", "false");
        if (udpPort > 0 && !string.IsNullOrEmpty(clientIp))
        {
            request.WithQuery("udpPort", udpPort.ToString(CultureInfo.InvariantCulture)).WithQuery("clientIP", clientIp);
        }

        var (response, gone) = await SendV1Async(request, cancellationToken).ConfigureAwait(false);
        if (response is { } answer)
        {
            EnsureSuccess(answer, "list instances of " + serviceName);
            return (NacosJson.ParseServiceInfo(answer.Body), answer.Body);
        }

        return await FirstV3CallAsync(request, gone!, () => V3ListAsync(serviceName, groupName, cancellationToken)).ConfigureAwait(false);
    }

    private static void EnsureSuccess(NacosResponse response, string what)
    {
        if (!response.IsSuccess)
        {
            throw new NacosProtocolException(
                $"Nacos server {response.Server} refused to {what}: {(int)response.StatusCode} {Truncate(response.Body)}");
        }
    }

    internal static string Truncate(string body) => body.Length <= 200 ? body : body[..200] + "...";

    private sealed class BeatInfo
    {
        [System.Text.Json.Serialization.JsonPropertyName("serviceName")]
        public string ServiceName { get; init; } = string.Empty;

        [System.Text.Json.Serialization.JsonPropertyName("ip")]
        public string Ip { get; init; } = string.Empty;

        [System.Text.Json.Serialization.JsonPropertyName("port")]
        public int Port { get; init; }

        [System.Text.Json.Serialization.JsonPropertyName("cluster")]
        public string Cluster { get; init; } = string.Empty;

        [System.Text.Json.Serialization.JsonPropertyName("weight")]
        public double Weight { get; init; }

        [System.Text.Json.Serialization.JsonPropertyName("metadata")]
        public IReadOnlyDictionary<string, string>? Metadata { get; init; }

        [System.Text.Json.Serialization.JsonPropertyName("scheduled")]
        public bool Scheduled { get; init; }

        [System.Text.Json.Serialization.JsonPropertyName("period")]
        public long Period { get; init; }

        [System.Text.Json.Serialization.JsonPropertyName("stopped")]
        public bool Stopped { get; init; }
    }
}
