using System.Net;
using System.Text.Json;

namespace GrayRelease.Dashboard.Tests;

/// <summary>MapGrayReleaseDashboard over real HTTP: the status JSON, the page's files, and commands that need the anti-forgery token.</summary>
public sealed class StatusApiTests : IAsyncLifetime, IDisposable
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private DashboardGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _gateway = await DashboardGateway.StartAsync(_timeout.Token);
        await _gateway.WaitUntilReadyAsync(_timeout.Token);
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    public void Dispose() => _timeout.Dispose();

    [Fact]
    public async Task Status_has_rules_per_lane_instances_by_version_traffic_per_version_and_the_rollout()
    {
        await _gateway.SendTrafficAsync(prod: 30, gray: 10, _timeout.Token);

        using var status = JsonDocument.Parse(await _gateway.Client.GetStringAsync(new Uri("/_gray/api/status", UriKind.Relative), _timeout.Token));
        var root = status.RootElement;
        Assert.Equal("V1", root.GetProperty("prodVersion").GetString());
        Assert.Equal("V2", root.GetProperty("grayVersion").GetString());

        var rules = root.GetProperty("rules").EnumerateArray().Select(r => (r.GetProperty("lane").GetString(), r.GetProperty("kind").GetString(), r.GetProperty("value").GetString())).ToList();
        Assert.Contains(("gray", "header", "gray: gray-996"), rules);
        Assert.Contains(("gray", "percentage", "1 %"), rules);           // the rollout's first step, as the gateway applies it
        Assert.Contains(("feature-b", "header", "x-lane: b"), rules);

        var service = Assert.Single(root.GetProperty("services").EnumerateArray());
        Assert.Equal("orders", service.GetProperty("name").GetString());
        var instances = service.GetProperty("instances").EnumerateArray().ToList();
        Assert.Equal(["V1", "V2"], instances.Select(i => i.GetProperty("version").GetString()));
        Assert.Equal([2.0, 1.0], instances.Select(i => i.GetProperty("weight").GetDouble()));   // the registry's weights

        var traffic = root.GetProperty("traffic").GetProperty("versions").EnumerateArray().ToDictionary(v => v.GetProperty("version").GetString()!);
        Assert.Equal(40, traffic.Values.Sum(v => v.GetProperty("requests").GetInt64()));
        Assert.True(traffic["V2"].GetProperty("requests").GetInt64() >= 10);
        Assert.Equal(1.0, traffic.Values.Sum(v => v.GetProperty("share").GetDouble()), 6);
        Assert.Equal(0, traffic["V1"].GetProperty("errorRate").GetDouble());

        var rollout = root.GetProperty("rollout");
        Assert.Equal("Progressing", rollout.GetProperty("status").GetString());
        Assert.Equal(0, rollout.GetProperty("step").GetInt32());
        Assert.True(rollout.GetProperty("nextDecisionAt").ValueKind is JsonValueKind.String or JsonValueKind.Null);
    }

    [Fact]
    public async Task Page_and_its_files_are_served_with_a_strict_content_security_policy()
    {
        using var noRedirects = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { BaseAddress = _gateway.Address };
        using var redirect = await noRedirects.GetAsync(new Uri("/_gray", UriKind.Relative), _timeout.Token);
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal("/_gray/", redirect.Headers.Location!.OriginalString);

        using var page = await _gateway.Client.GetAsync(new Uri("/_gray/", UriKind.Relative), _timeout.Token);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Contains("<main>", await page.Content.ReadAsStringAsync(_timeout.Token), StringComparison.Ordinal);

        foreach (var file in new[] { "dashboard.js", "dashboard.css" })
        {
            using var response = await _gateway.Client.GetAsync(new Uri("/_gray/" + file, UriKind.Relative), _timeout.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task A_command_without_the_antiforgery_token_is_refused_and_Nacos_is_unchanged_with_it_the_state_changes()
    {
        using var forged = await _gateway.Client.PostAsync(new Uri("/_gray/api/rollout/pause", UriKind.Relative), null, _timeout.Token);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(RolloutStatus.Progressing, _gateway.State()!.Status);
        Assert.Contains(_gateway.Logs.GetSnapshot(), r => r.Id.Id == RolloutEventIds.DashboardPostRejected);

        // As the page does: fetch the token (the cookie comes with it), send both back.
        using var handler = new HttpClientHandler { UseProxy = false, CookieContainer = new CookieContainer() };
        using var browser = new HttpClient(handler) { BaseAddress = _gateway.Address, Timeout = TimeSpan.FromSeconds(30) };
        using var token = JsonDocument.Parse(await browser.GetStringAsync(new Uri("/_gray/api/antiforgery", UriKind.Relative), _timeout.Token));
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/_gray/api/rollout/pause", UriKind.Relative));
        request.Headers.Add(token.RootElement.GetProperty("header").GetString()!, token.RootElement.GetProperty("token").GetString());
        using var response = await browser.SendAsync(request, _timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(RolloutStatus.Paused, _gateway.State()!.Status);

        // A token without its cookie is a forgery too.
        using var replay = new HttpRequestMessage(HttpMethod.Post, new Uri("/_gray/api/rollout/resume", UriKind.Relative));
        replay.Headers.Add(token.RootElement.GetProperty("header").GetString()!, token.RootElement.GetProperty("token").GetString());
        using var replayed = await _gateway.Client.SendAsync(replay, _timeout.Token);
        Assert.Equal(HttpStatusCode.BadRequest, replayed.StatusCode);
        Assert.Equal(RolloutStatus.Paused, _gateway.State()!.Status);
    }

    [Fact]
    public async Task The_rollout_endpoint_refuses_a_browser_POST_without_the_antiforgery_token_as_the_page_does()
    {
        // What a cross-site form on another origin makes the operator's browser send.
        using var forged = new HttpRequestMessage(HttpMethod.Post, new Uri("/_gray/rollout/abort", UriKind.Relative));
        forged.Headers.Add("Origin", "http://evil.example");
        forged.Headers.Add("Sec-Fetch-Site", "cross-site");
        forged.Headers.Add("Sec-Fetch-Mode", "navigate");
        using var refused = await _gateway.Client.SendAsync(forged, _timeout.Token);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(RolloutStatus.Progressing, _gateway.State()!.Status);

        // A script (no browser headers, no cookie) is not exposed to cross-site requests and needs no token.
        using var script = await _gateway.Client.PostAsync(new Uri("/_gray/rollout/pause", UriKind.Relative), null, _timeout.Token);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal(RolloutStatus.Paused, _gateway.State()!.Status);

        // The browser with the page's token and cookie gets through.
        using var handler = new HttpClientHandler { UseProxy = false, CookieContainer = new CookieContainer() };
        using var browser = new HttpClient(handler) { BaseAddress = _gateway.Address, Timeout = TimeSpan.FromSeconds(30) };
        using var token = JsonDocument.Parse(await browser.GetStringAsync(new Uri("/_gray/api/antiforgery", UriKind.Relative), _timeout.Token));
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/_gray/rollout/resume", UriKind.Relative));
        request.Headers.Add("Sec-Fetch-Site", "same-origin");
        request.Headers.Add(token.RootElement.GetProperty("header").GetString()!, token.RootElement.GetProperty("token").GetString());
        using var response = await browser.SendAsync(request, _timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(RolloutStatus.Progressing, _gateway.State()!.Status);
    }
}
