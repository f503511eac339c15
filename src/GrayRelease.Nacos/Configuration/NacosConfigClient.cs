using System.Net;
using GrayRelease.Nacos.Http;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Configuration;

/// <summary>
/// The v1 config calls: GET and DELETE in the query string, publish and listener as a form body. A server without the
/// v1 API (404 / 410) is read over its v3 client API instead (<c>NacosConfigClient.V3.cs</c>).
/// </summary>
internal sealed partial class NacosConfigClient(NacosHttpClient http, ILogger? logger = null, TimeSpan? v3PollInterval = null, TimeProvider? time = null)
{
    /// <summary>How long the server may hold a listener request; the call's own timeout adds the normal timeout to it.</summary>
    public static readonly TimeSpan LongPollTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// config/.../controller/ConfigServletInner.java (handlerConfigNotFound / writeResponseForV1): a missing config is
    /// a 404 whose body is this text, on every server line from 1.x to 3.x.
    /// </summary>
    internal const string NotFoundBody = "config data not exist";

    /// <summary>Returns the content, or <see langword="null"/> when the config does not exist (404 with the server's "config data not exist").</summary>
    public async Task<string?> GetAsync(NacosConfigKey key, CancellationToken cancellationToken)
    {
        if (UsesV3)
        {
            return await V3GetAsync(key, cancellationToken).ConfigureAwait(false);
        }

        var request = new NacosRequest(HttpMethod.Get, "v1/cs/configs")
            .WithQuery("dataId", key.DataId)
            .WithQuery("group", key.Group)
            .WithQuery("tenant", key.Tenant);
        NacosResponse response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (NacosProtocolException ex) when (ex.StatusCode == 410)
        {
            return await FirstV3GetAsync(key, request, ex, cancellationToken).ConfigureAwait(false);
        }

        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            if (response.Body.Contains(NotFoundBody, StringComparison.Ordinal))
            {
                return null;
            }

            // Any other 404 means nobody here serves the v1 config API; "publish it first" would send the user astray.
            var gone = new NacosProtocolException(
                $"Nacos server {response.Server} answered 404 to GET v1/cs/configs for {key} without the server's \"{NotFoundBody}\" body, so this is not a missing configuration: "
                + "the address does not serve the Nacos v1 config API (a Nacos 3.2+ server, which no longer serves the v1 Open API, or a wrong context path or proxy: check nacos:ServerAddresses). "
                + $"Body: {Naming.NacosNamingClient.Truncate(response.Body)}")
            {
                StatusCode = 404,
            };
            return await FirstV3GetAsync(key, request, gone, cancellationToken).ConfigureAwait(false);
        }

        if (!response.IsSuccess)
        {
            throw new NacosProtocolException(
                $"Nacos server {response.Server} refused to read the configuration {key}: {(int)response.StatusCode} {Naming.NacosNamingClient.Truncate(response.Body)}")
            {
                StatusCode = (int)response.StatusCode,
            };
        }

        return response.Body;
    }

    /// <summary>
    /// POST v1/cs/configs. config/.../controller/ConfigController.java publishConfig reads the compare-and-set md5 from
    /// the <c>casMd5</c> header (not the form); ConfigOperationService.publishConfig answers a mismatch with
    /// NacosApiException(500, RESOURCE_CONFLICT), which the controller turns into status 500 and the body <c>false</c>.
    /// </summary>
    /// <returns>False when <paramref name="casMd5"/> was given and the server refused the write.</returns>
    public async Task<bool> PublishAsync(NacosConfigKey key, string content, string? casMd5, string? type, CancellationToken cancellationToken)
    {
        if (UsesV3)
        {
            throw NoPublishOverHttp(key, string.Join(", ", http.Servers));
        }

        var request = new NacosRequest(HttpMethod.Post, "v1/cs/configs")
            .WithForm("dataId", key.DataId)
            .WithForm("group", key.Group)
            .WithForm("tenant", key.Tenant)
            .WithForm("content", content)
            .WithForm("type", type ?? "text");
        if (!string.IsNullOrEmpty(casMd5))
        {
            request.Headers.Add(new("casMd5", casMd5));
        }

        NacosResponse response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (NacosProtocolException ex) when (ex.StatusCode == 410)
        {
            // Nothing was written; the v3 read tells a server without v1 from a wrong address (then ex stands).
            await FirstV3GetAsync(key, request, ex, cancellationToken).ConfigureAwait(false);
            throw NoPublishOverHttp(key, string.Join(", ", http.Servers));
        }

        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            var gone = new NacosProtocolException(
                $"Nacos server {response.Server} answered 404 to POST v1/cs/configs for {key}: the address does not serve the Nacos v1 config API (a Nacos 3.2+ server, or a wrong context path or proxy: check nacos:ServerAddresses). "
                + $"Body: {Naming.NacosNamingClient.Truncate(response.Body)}")
            {
                StatusCode = 404,
            };
            await FirstV3GetAsync(key, request, gone, cancellationToken).ConfigureAwait(false);
            throw NoPublishOverHttp(key, response.Server.ToString());
        }

        if (response.IsSuccess && response.Body.Trim().Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (!string.IsNullOrEmpty(casMd5) && (int)response.StatusCode == 500)
        {
            return false;
        }

        throw new NacosProtocolException(
            $"Nacos server {response.Server} refused to publish the configuration {key}: {(int)response.StatusCode} {Naming.NacosNamingClient.Truncate(response.Body)}")
        {
            StatusCode = (int)response.StatusCode,
        };
    }

    /// <summary>
    /// Why no publish can go over HTTP once v1 is gone: config/.../controller/v3/ConfigOpenApiController.java, the v3
    /// client API, only reads (one @GetMapping); writes are on the gRPC ConfigPublishRequest (or the admin API).
    /// </summary>
    internal const string NoPublishWithoutV1 = "the v3 client API has no publish, so publishing a configuration needs gRPC";

    /// <summary>
    /// A publish over HTTP where v1 is gone; <see cref="NacosConfigPublisher"/> words it for Auto, still waiting for the
    /// gRPC port. Nothing was written.
    /// </summary>
    internal static NacosProtocolException NoPublishOverHttp(NacosConfigKey key, string server) => new(
        $"Cannot publish the configuration {key} over HTTP to Nacos {server}: {NacosV3Api.V1GoneReason}, and {NoPublishWithoutV1}. "
        + "Set nacos:Transport = Grpc (or Auto) and make the server's gRPC port reachable (nacos:GrpcPort; by default the HTTP port + 1000).");

    /// <summary>Holds until one of <paramref name="configs"/> changes or the long-poll timeout passes; returns the changed keys.</summary>
    public async Task<List<NacosConfigKey>> ListenAsync(IReadOnlyList<(NacosConfigKey Key, string Md5)> configs, TimeSpan callTimeout, CancellationToken cancellationToken)
    {
        if (UsesV3)
        {
            return await V3PollAsync(configs, cancellationToken).ConfigureAwait(false);
        }

        var request = new NacosRequest(HttpMethod.Post, "v1/cs/configs/listener")
            .WithForm("Listening-Configs", NacosConfigKey.BuildListeningConfigs(configs));
        request.Headers.Add(new("Long-Pulling-Timeout", ((long)LongPollTimeout.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        request.Timeout = LongPollTimeout + callTimeout;
        NacosResponse response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (NacosProtocolException ex) when (ex.StatusCode == 410 && configs.Count > 0)
        {
            // The v1 API was switched off since the configs were read: read them over v3, and from now on poll.
            await FirstV3GetAsync(configs[0].Key, request, ex, cancellationToken).ConfigureAwait(false);
            return await V3PollAsync(configs, cancellationToken, wait: false).ConfigureAwait(false);
        }

        if (response.StatusCode == HttpStatusCode.NotFound && configs.Count > 0)
        {
            var gone = new NacosProtocolException($"Nacos server {response.Server} answered 404 to the v1 configuration listener: {Naming.NacosNamingClient.Truncate(response.Body)}") { StatusCode = 404 };
            await FirstV3GetAsync(configs[0].Key, request, gone, cancellationToken).ConfigureAwait(false);
            return await V3PollAsync(configs, cancellationToken, wait: false).ConfigureAwait(false);
        }

        if (!response.IsSuccess)
        {
            throw new NacosProtocolException(
                $"Nacos server {response.Server} refused the configuration listener: {(int)response.StatusCode} {Naming.NacosNamingClient.Truncate(response.Body)}")
            {
                StatusCode = (int)response.StatusCode,
            };
        }

        return NacosConfigKey.ParseChanged(response.Body);
    }
}
