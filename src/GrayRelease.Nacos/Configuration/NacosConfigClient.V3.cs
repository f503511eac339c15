using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace GrayRelease.Nacos.Configuration;

/// <summary>
/// The v3 client HTTP API for configurations (config/.../controller/v3/ConfigOpenApiController.java): one GET, no
/// listener and no long polling ("use gRPC"), so changes are found by reading every config each
/// <see cref="NacosOptions.V3PollInterval"/> and comparing md5.
/// </summary>
internal sealed partial class NacosConfigClient
{
    private const string V3ConfigPath = "v3/client/cs/config";

    /// <summary>api/.../model/v2/ErrorCode.java RESOURCE_NOT_FOUND: HTTP 200 with this code when the config does not exist.</summary>
    private const int V3NotFound = 20004;

    private int _v3;

    public bool UsesV3 => Volatile.Read(ref _v3) != 0;

    private TimeSpan PollInterval => v3PollInterval ?? TimeSpan.FromSeconds(10);

    internal void UseV3(string why)
    {
        // Registration and discovery (or two configs) may find v1 gone at once: one switch, one log line.
        if (Interlocked.Exchange(ref _v3, 1) == 0)
        {
            Log.V3ApiChosen(logger ?? NullLogger.Instance, "configuration", why, PollInterval);
        }
    }

    /// <summary>After v1 answered 404 / 410: the same read over v3; if v3 is not there either, <paramref name="v1Error"/> stands.</summary>
    private async Task<string?> FirstV3GetAsync(NacosConfigKey key, NacosRequest v1, NacosProtocolException v1Error, CancellationToken cancellationToken)
    {
        try
        {
            var content = await V3GetAsync(key, cancellationToken).ConfigureAwait(false);
            UseV3($"{v1.Method} {v1.Path} answered {v1Error.StatusCode} ({NacosV3Api.V1GoneReason})");
            return content;
        }
        catch (NacosProtocolException ex) when (ex.StatusCode == 404)
        {
            throw new NacosProtocolException(v1Error.Message + " The v3 client API (" + V3ConfigPath + ") answered 404 too.", v1Error) { StatusCode = v1Error.StatusCode };
        }
    }

    /// <summary>The content, or null when the config does not exist (HTTP 200, code 20004).</summary>
    private async Task<string?> V3GetAsync(NacosConfigKey key, CancellationToken cancellationToken)
    {
        // model/form/ConfigFormV3.java: groupName (not group) and namespaceId are required / defaulted; blank = public.
        var request = new NacosRequest(HttpMethod.Get, V3ConfigPath)
            .WithQuery("dataId", key.DataId)
            .WithQuery("groupName", key.Group)
            .WithQuery("namespaceId", key.Tenant);
        var what = "read the configuration " + key;
        var (code, message, data, server) = await NacosV3Api.CallAsync(http, request, what, cancellationToken).ConfigureAwait(false);
        if (code == V3NotFound)
        {
            return null;
        }

        if (code != 0)
        {
            throw NacosV3Api.Refused(server, what, code, message);
        }

        // data is the gRPC ConfigQueryResponse through Spring's mapper; content null = not found as well.
        if (data.ValueKind != System.Text.Json.JsonValueKind.Object)
        {
            throw new NacosProtocolException($"Nacos server {server} answered {what} without a config object: {Naming.NacosNamingClient.Truncate(data.ValueKind == System.Text.Json.JsonValueKind.Undefined ? string.Empty : data.GetRawText())}");
        }

        return data.TryGetProperty("content", out var content) && content.ValueKind == System.Text.Json.JsonValueKind.String ? content.GetString() : null;
    }

    /// <summary>Waits one poll period, then reads every config; returns those whose md5 differs from the one held.</summary>
    private async Task<List<NacosConfigKey>> V3PollAsync(IReadOnlyList<(NacosConfigKey Key, string Md5)> configs, CancellationToken cancellationToken, bool wait = true)
    {
        if (wait)
        {
            await Task.Delay(PollInterval, time ?? TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }

        var changed = new List<NacosConfigKey>();
        foreach (var (key, md5) in configs)
        {
            var content = await V3GetAsync(key, cancellationToken).ConfigureAwait(false);
            if (!string.Equals(NacosConfigKey.Md5(content), md5, StringComparison.Ordinal))
            {
                changed.Add(key);
            }
        }

        return changed;
    }
}
