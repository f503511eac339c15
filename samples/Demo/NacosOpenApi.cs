using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace GrayRelease.Demo;

/// <summary>The few Nacos Open API calls the demo makes itself: publish a config, list instances (same calls against the emulator or a real server).</summary>
internal sealed class NacosOpenApi(string serverAddress, string? userName, string? password) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri(serverAddress.TrimEnd('/') + "/nacos/"), Timeout = TimeSpan.FromSeconds(10) };
    private string? _token;

    public async Task PublishConfigAsync(string dataId, string content, CancellationToken cancellationToken)
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["dataId"] = dataId,
            ["group"] = "DEFAULT_GROUP",
            ["type"] = "yaml",
            ["content"] = content,
        });
        using var response = await _http.PostAsync(await WithTokenAsync("v1/cs/configs", cancellationToken), form, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode || body.Trim() != "true")
        {
            throw new InvalidOperationException($"Publishing {dataId} to Nacos failed: {(int)response.StatusCode} {body}");
        }
    }

    /// <summary>Versions of the healthy, enabled instances of a service, with their ports.</summary>
    public async Task<IReadOnlyList<(string Version, int Port)>> ListAsync(string serviceName, CancellationToken cancellationToken)
    {
        var path = await WithTokenAsync($"v1/ns/instance/list?serviceName={Uri.EscapeDataString(serviceName)}&healthyOnly=true", cancellationToken);
        using var document = await _http.GetFromJsonAsync<JsonDocument>(path, cancellationToken);
        var result = new List<(string, int)>();
        foreach (var host in document!.RootElement.GetProperty("hosts").EnumerateArray())
        {
            var version = host.GetProperty("metadata").TryGetProperty("version", out var v) ? v.GetString() ?? "" : "";
            if (host.GetProperty("enabled").GetBoolean())
            {
                result.Add((version, host.GetProperty("port").GetInt32()));
            }
        }

        return result;
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
            using var response = await _http.PostAsync("v1/auth/login", form, cancellationToken);
            if (response.StatusCode == HttpStatusCode.Forbidden)
            {
                throw new InvalidOperationException("Nacos refused the demo's credentials (403): check --username / --password.");
            }

            response.EnsureSuccessStatusCode();
            using var login = await response.Content.ReadFromJsonAsync<JsonDocument>(cancellationToken);
            _token = login!.RootElement.GetProperty("accessToken").GetString();
        }

        return path + (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "accessToken=" + Uri.EscapeDataString(_token!);
    }
}
