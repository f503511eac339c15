using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GrayRelease.Nacos.Emulator;

namespace GrayRelease.Demo;

/// <summary>
/// The few Nacos calls the demo makes itself: publish a config, list instances. Against the built-in emulator they go
/// to it in-process (whatever server line it plays); against a real server over the v1 Open API, or on 3.2+ (which
/// serves no v1 API: 404) over the v3 admin / client API.
/// </summary>
internal sealed class NacosOpenApi(string serverAddress, string? userName, string? password, NacosEmulator? emulator = null) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri(serverAddress.TrimEnd('/') + "/nacos/"), Timeout = TimeSpan.FromSeconds(10) };
    private string? _token;

    public async Task PublishConfigAsync(string dataId, string content, CancellationToken cancellationToken)
    {
        if (emulator is not null)
        {
            emulator.PublishConfig(dataId, "DEFAULT_GROUP", content, type: "yaml");
            return;
        }

        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["dataId"] = dataId,
            ["group"] = "DEFAULT_GROUP",
            ["type"] = "yaml",
            ["content"] = content,
        });
        using var response = await _http.PostAsync(await WithTokenAsync("v1/cs/configs", cancellationToken), form, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            await PublishConfigV3Async(dataId, content, cancellationToken);
            return;
        }

        if (!response.IsSuccessStatusCode || body.Trim() != "true")
        {
            throw new InvalidOperationException($"Publishing {dataId} to Nacos failed: {(int)response.StatusCode} {body}");
        }
    }

    // Nacos 3.x admin API (ConfigOpenApiController): groupName instead of group; answers a v3 envelope with code 0.
    private async Task PublishConfigV3Async(string dataId, string content, CancellationToken cancellationToken)
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["dataId"] = dataId,
            ["groupName"] = "DEFAULT_GROUP",
            ["type"] = "yaml",
            ["content"] = content,
        });
        using var response = await _http.PostAsync(await WithTokenAsync("v3/admin/cs/config", cancellationToken), form, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Publishing {dataId} to Nacos failed (v1 and v3 admin API): {(int)response.StatusCode} {body}");
        }
    }

    /// <summary>Versions of the healthy, enabled instances of a service, with their ports and lanes (empty: the baseline).</summary>
    public async Task<IReadOnlyList<(string Version, int Port, string Lane)>> ListAsync(string serviceName, CancellationToken cancellationToken)
    {
        if (emulator is not null)
        {
            return emulator.GetInstances(serviceName)
                .Where(i => i.Healthy && i.Enabled)
                .Select(i => (i.Metadata.TryGetValue("version", out var version) ? version : "", i.Port, i.Metadata.TryGetValue("lane", out var lane) ? lane : ""))
                .ToList();
        }

        var escaped = Uri.EscapeDataString(serviceName);
        using var response = await _http.GetAsync(await WithTokenAsync($"v1/ns/instance/list?serviceName={escaped}&healthyOnly=true", cancellationToken), cancellationToken);
        JsonElement hosts;
        JsonDocument document;
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            // 3.2+: the v3 client API (InstanceOpenApiController) answers an envelope whose data is the instance array.
            document = (await _http.GetFromJsonAsync<JsonDocument>(await WithTokenAsync($"v3/client/ns/instance/list?serviceName={escaped}&healthyOnly=true", cancellationToken), cancellationToken))!;
            hosts = document.RootElement.GetProperty("data");
        }
        else
        {
            response.EnsureSuccessStatusCode();
            document = (await response.Content.ReadFromJsonAsync<JsonDocument>(cancellationToken))!;
            hosts = document.RootElement.GetProperty("hosts");
        }

        using (document)
        {
            var result = new List<(string, int, string)>();
            foreach (var host in hosts.EnumerateArray())
            {
                var metadata = host.GetProperty("metadata");
                var version = metadata.TryGetProperty("version", out var v) ? v.GetString() ?? "" : "";
                var lane = metadata.TryGetProperty("lane", out var l) ? l.GetString() ?? "" : "";
                if (host.GetProperty("enabled").GetBoolean())
                {
                    result.Add((version, host.GetProperty("port").GetInt32(), lane));
                }
            }

            return result;
        }
    }

    public void Dispose() => _http.Dispose();

    private async Task<string> WithTokenAsync(string path, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(userName))
        {
            return path;
        }

        if (_token is null)
        {
            using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = userName, ["password"] = password ?? "" });
            // The official client's order (HttpLoginProcessor): the v3 path, then the v1 one on servers without it.
            using var v3 = await _http.PostAsync("v3/auth/user/login", form, cancellationToken);
            using var response = v3.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.NotImplemented
                ? await _http.PostAsync("v1/auth/users/login", form, cancellationToken)
                : null;
            var answer = response ?? v3;
            if (answer.StatusCode == HttpStatusCode.Forbidden)
            {
                throw new InvalidOperationException("Nacos refused the demo's credentials (403): check --username / --password.");
            }

            answer.EnsureSuccessStatusCode();
            using var login = await answer.Content.ReadFromJsonAsync<JsonDocument>(cancellationToken);
            _token = login!.RootElement.GetProperty("accessToken").GetString();
        }

        return path + (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "accessToken=" + Uri.EscapeDataString(_token!);
    }
}
