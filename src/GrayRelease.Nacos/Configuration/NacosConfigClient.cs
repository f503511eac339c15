using System.Net;
using GrayRelease.Nacos.Http;

namespace GrayRelease.Nacos.Configuration;

/// <summary>The v1 config calls: GET and DELETE in the query string, publish and listener as a form body.</summary>
internal sealed class NacosConfigClient(NacosHttpClient http)
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
        var request = new NacosRequest(HttpMethod.Get, "v1/cs/configs")
            .WithQuery("dataId", key.DataId)
            .WithQuery("group", key.Group)
            .WithQuery("tenant", key.Tenant);
        var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            if (response.Body.Contains(NotFoundBody, StringComparison.Ordinal))
            {
                return null;
            }

            // Any other 404 means nobody here serves the v1 config API; "publish it first" would send the user astray.
            throw new NacosProtocolException(
                $"Nacos server {response.Server} answered 404 to GET v1/cs/configs for {key} without the server's \"{NotFoundBody}\" body, so this is not a missing configuration: "
                + "the address does not serve the Nacos v1 config API (a Nacos 3.2+ server, which no longer serves the v1 Open API, or a wrong context path or proxy: check nacos:ServerAddresses). "
                + $"Body: {Naming.NacosNamingClient.Truncate(response.Body)}")
            {
                StatusCode = 404,
            };
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

        var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
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

    /// <summary>Holds until one of <paramref name="configs"/> changes or the long-poll timeout passes; returns the changed keys.</summary>
    public async Task<List<NacosConfigKey>> ListenAsync(IEnumerable<(NacosConfigKey Key, string Md5)> configs, TimeSpan callTimeout, CancellationToken cancellationToken)
    {
        var request = new NacosRequest(HttpMethod.Post, "v1/cs/configs/listener")
            .WithForm("Listening-Configs", NacosConfigKey.BuildListeningConfigs(configs));
        request.Headers.Add(new("Long-Pulling-Timeout", ((long)LongPollTimeout.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        request.Timeout = LongPollTimeout + callTimeout;
        var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
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
