using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace GrayRelease.Nacos.Emulator.Tests.Support;

/// <summary>Starts an emulator per test and talks to it with a plain HttpClient, as a foreign client would.</summary>
public abstract class EmulatorTestBase : IAsyncLifetime, IDisposable
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));

    protected NacosEmulator Emulator { get; private set; } = null!;

    protected HttpClient Http { get; private set; } = null!;

    /// <summary>Every test is bounded by this.</summary>
    protected CancellationToken Timeout => _timeout.Token;

    protected FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 25, 8, 0, 0, TimeSpan.Zero));

    /// <summary>Override to change the options (the fake clock is set by default).</summary>
    protected virtual void Configure(NacosEmulatorOptions options)
    {
    }

    public async Task InitializeAsync()
    {
        // These tests are about the v1/v2 HTTP API: pinned to a line that serves it, whatever the default line is.
        var options = new NacosEmulatorOptions { TimeProvider = Clock, ServerLine = NacosServerLine.Nacos2 };
        Configure(options);
        Emulator = await NacosEmulator.StartAsync(options, Timeout);
        Http = new HttpClient { BaseAddress = Emulator.BaseAddress, Timeout = TimeSpan.FromSeconds(20) };
    }

    public virtual async Task DisposeAsync()
    {
        Http.Dispose();
        await Emulator.DisposeAsync();
    }

    public void Dispose()
    {
        _timeout.Dispose();
        GC.SuppressFinalize(this);
    }

    protected async Task<HttpResponseMessage> SendAsync(HttpMethod method, string relativeUri, HttpContent? content = null, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, relativeUri) { Content = content };
        configure?.Invoke(request);
        return await Http.SendAsync(request, Timeout);
    }

    protected async Task<string> SendTextAsync(HttpMethod method, string relativeUri, HttpStatusCode expected = HttpStatusCode.OK, HttpContent? content = null)
    {
        using var response = await SendAsync(method, relativeUri, content);
        var body = await response.Content.ReadAsStringAsync(Timeout);
        Assert.True(response.StatusCode == expected, $"{method} {relativeUri}: expected {expected}, got {(int)response.StatusCode} {body}");
        return body;
    }

    protected async Task<JsonElement> GetJsonAsync(string relativeUri)
    {
        var body = await SendTextAsync(HttpMethod.Get, relativeUri);
        using var document = JsonDocument.Parse(body);
        return document.RootElement.Clone();
    }

    /// <summary>Registers with every parameter in the query string and an empty body, like the official clients.</summary>
    protected Task<string> RegisterAsync(string query) => SendTextAsync(HttpMethod.Post, "v1/ns/instance?" + query);

    protected Task<JsonElement> ListAsync(string query) => GetJsonAsync("v1/ns/instance/list?" + query);

    protected static string[] HostAddresses(JsonElement list) =>
        list.GetProperty("hosts").EnumerateArray()
            .Select(h => h.GetProperty("ip").GetString() + ":" + h.GetProperty("port").GetInt32())
            .ToArray();

    protected static FormUrlEncodedContent Form(params (string Key, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value)));

    protected static StringContent RawForm(string body, string contentType) =>
        new(body, Encoding.UTF8, new System.Net.Http.Headers.MediaTypeHeaderValue(contentType.Split(';')[0]))
        {
            Headers = { ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType) },
        };
}
