using System.Net;
using GrayRelease.Nacos.Configuration;
using GrayRelease.Nacos.Http;
using GrayRelease.Nacos.Naming;
using Microsoft.Extensions.Logging.Testing;

namespace GrayRelease.Nacos.Tests.Http;

/// <summary>What goes on the wire, checked against PROTOCOL.md (the emulator accepts more than real servers do).</summary>
public sealed class WireFormatTests : IDisposable
{
    private readonly CapturingHandler _handler = new();
    private readonly NacosHttpClient _http;
    private readonly NacosNamingClient _naming;
    private readonly NacosOptions _options = new() { ServerAddresses = ["http://10.9.9.9:8848"], Namespace = "dev" };

    public WireFormatTests()
    {
        _http = new NacosHttpClient(_options, TimeProvider.System, new FakeLogger(), _handler);
        _naming = new NacosNamingClient(_http, _options);
    }

    public void Dispose() => _http.Dispose();

    private static NacosRegistration Registration => new(
        "order-app", "DEFAULT_GROUP", "DEFAULT", "10.0.0.5", 7201, 1.5, Enabled: true, Ephemeral: true,
        new Dictionary<string, string> { ["version"] = "V2" });

    [Fact]
    public async Task Naming_calls_put_every_parameter_in_the_query_string_with_an_empty_body()
    {
        _handler.Body = "ok";
        await _naming.RegisterAsync(Registration, CancellationToken.None);
        await _naming.DeregisterAsync(Registration, CancellationToken.None);
        _handler.Body = "{\"clientBeatInterval\":5000,\"code\":10200}";
        await _naming.BeatAsync(Registration, 5000, light: false, CancellationToken.None);

        Assert.Equal([HttpMethod.Post, HttpMethod.Delete, HttpMethod.Put], _handler.Seen.Select(s => s.Method));
        Assert.All(_handler.Seen, s =>
        {
            Assert.Null(s.Body);
            Assert.Null(s.ContentType);
            Assert.StartsWith("http://10.9.9.9:8848/nacos/v1/ns/instance", s.Uri.GetLeftPart(UriPartial.Path), StringComparison.Ordinal);
            Assert.Equal("Nacos-CSharp-Client:v1.3.0", s.UserAgent);
            Assert.Equal("DEFAULT_GROUP@@order-app", s.Query["serviceName"]);
            Assert.Equal("dev", s.Query["namespaceId"]);
        });
        var register = _handler.Seen[0].Query;
        Assert.Equal(("10.0.0.5", "7201", "1.5", "true", "true", "true"), (register["ip"], register["port"], register["weight"], register["enabled"], register["enable"], register["ephemeral"]));
        Assert.Equal("{\"version\":\"V2\"}", register["metadata"]);
        var beat = System.Text.Json.JsonDocument.Parse(_handler.Seen[2].Query["beat"]).RootElement;
        Assert.Equal(("DEFAULT_GROUP@@order-app", "10.0.0.5", 7201, "DEFAULT"), (beat.GetProperty("serviceName").GetString(), beat.GetProperty("ip").GetString(), beat.GetProperty("port").GetInt32(), beat.GetProperty("cluster").GetString()));
        Assert.Equal("V2", beat.GetProperty("metadata").GetProperty("version").GetString());
    }

    [Fact]
    public async Task The_config_listener_posts_a_form_with_the_long_polling_header()
    {
        _handler.Body = "a.yaml%02DEFAULT_GROUP%02dev%01";
        var client = new NacosConfigClient(_http);

        var changed = await client.ListenAsync([(new NacosConfigKey("a.yaml", "DEFAULT_GROUP", "dev"), "abc")], TimeSpan.FromSeconds(1), CancellationToken.None);

        var seen = Assert.Single(_handler.Seen);
        Assert.Equal(HttpMethod.Post, seen.Method);
        Assert.Equal("/nacos/v1/cs/configs/listener", seen.Uri.AbsolutePath);
        Assert.Equal("application/x-www-form-urlencoded", seen.ContentType);
        Assert.Equal("Listening-Configs=" + Uri.EscapeDataString("a.yaml\u0002DEFAULT_GROUP\u0002abc\u0002dev\u0001"), seen.Body?.Replace("+", "%20", StringComparison.Ordinal));
        Assert.Equal("30000", seen.LongPullingTimeout);
        Assert.Equal([new NacosConfigKey("a.yaml", "DEFAULT_GROUP", "dev")], changed);
    }

    [Fact]
    public async Task A_missing_config_is_null_not_an_error()
    {
        _handler.Status = HttpStatusCode.NotFound;
        _handler.Body = "config data not exist";
        var client = new NacosConfigClient(_http);

        var content = await client.GetAsync(new NacosConfigKey("a.yaml", "DEFAULT_GROUP", "dev"), CancellationToken.None);

        Assert.Null(content);
        var query = _handler.Seen.Single().Query;
        Assert.Equal(("a.yaml", "DEFAULT_GROUP", "dev"), (query["dataId"], query["group"], query["tenant"]));
    }

    private sealed class CapturingHandler : HttpMessageHandler
    {
        public List<(HttpMethod Method, Uri Uri, Dictionary<string, string> Query, string? Body, string? ContentType, string? UserAgent, string? LongPullingTimeout)> Seen { get; } = [];

        public string Body { get; set; } = string.Empty;

        public HttpStatusCode Status { get; set; } = HttpStatusCode.OK;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var query = request.RequestUri!.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
                .Select(p => p.Split('=', 2))
                .ToDictionary(p => Uri.UnescapeDataString(p[0]), p => Uri.UnescapeDataString(p[1]));
            var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
            Seen.Add((
                request.Method,
                request.RequestUri,
                query,
                body,
                request.Content?.Headers.ContentType?.MediaType,
                string.Join(" ", request.Headers.GetValues("User-Agent")),
                request.Headers.TryGetValues("Long-Pulling-Timeout", out var values) ? values.Single() : null));
            return new HttpResponseMessage(Status) { Content = new StringContent(Body) };
        }
    }
}
