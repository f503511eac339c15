using System.Diagnostics;
using System.Net.Http.Headers;
using GrayRelease.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace GrayRelease.Tests.AspNetCore;

public sealed class GrayReleaseMiddlewareFixture : IAsyncLifetime
{
    public LoopbackApp App { get; private set; } = null!;

    public FakeLogCollector Logs { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        App = await LoopbackApp.StartAsync(
            builder =>
            {
                builder.Services.AddGrayRelease(builder.Configuration);
                builder.Logging.AddFakeLogging(options => options.CollectRecordsForDisabledLogLevels = false).SetMinimumLevel(LogLevel.Debug);
            },
            app =>
            {
                app.UseGrayRelease();
                app.MapGet("/status", (ILogger<GrayReleaseMiddlewareFixture> logger) =>
                {
                    logger.LogInformation("inside");
                    return new { status = GrayContext.Current?.ToWireValue() ?? "NONE", activityTag = Activity.Current?.GetTagItem("gray.status") as string };
                });
            });
        Logs = App.Services.GetRequiredService<FakeLogCollector>();
        Client = new HttpClient { BaseAddress = App.Address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await App.DisposeAsync();
    }
}

public sealed class GrayReleaseMiddlewareTests(GrayReleaseMiddlewareFixture fixture) : IClassFixture<GrayReleaseMiddlewareFixture>
{
    private sealed record StatusAnswer(string Status, string? ActivityTag);

    private async Task<StatusAnswer> Get(Action<HttpRequestHeaders> headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/status");
        headers(request.Headers);
        using var response = await fixture.Client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<StatusAnswer>(response.Content))!;
    }

    [Theory]
    [InlineData("GRAY", "GRAY")]
    [InlineData("gray", "GRAY")]
    [InlineData("PROD", "PROD")]
    [InlineData("All", "ALL")]
    public async Task Valid_header_becomes_the_requests_gray_status(string header, string expected)
    {
        var answer = await Get(h => h.Add("gray", header));
        Assert.Equal(expected, answer.Status);
    }

    [Fact]
    public async Task Request_without_header_is_untagged()
    {
        Assert.Equal("NONE", (await Get(_ => { })).Status);
    }

    [Theory]
    [InlineData("gray-996")]
    [InlineData("GREY")]
    [InlineData("GRAY,PROD")]
    [InlineData("")]
    public async Task Unknown_header_values_are_ignored(string header)
    {
        Assert.Equal("NONE", (await Get(h => h.TryAddWithoutValidation("gray", header))).Status);
    }

    [Fact]
    public async Task Huge_header_value_is_ignored()
    {
        Assert.Equal("NONE", (await Get(h => h.TryAddWithoutValidation("gray", "GRAY" + new string(' ', 8_000) + "X"))).Status);
    }

    [Fact]
    public async Task Non_ascii_header_value_is_ignored()
    {
        using var handler = new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8 };
        using var client = new HttpClient(handler) { BaseAddress = fixture.App.Address, Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/status");
        request.Headers.TryAddWithoutValidation("gray", "灰度");
        using var response = await client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode || (int)response.StatusCode == 400, $"unexpected {(int)response.StatusCode}");
        if (response.IsSuccessStatusCode)
        {
            Assert.Contains("NONE", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Repeated_header_is_ignored_and_logged_at_debug()
    {
        var answer = await Get(h =>
        {
            h.TryAddWithoutValidation("gray", "GRAY");
            h.TryAddWithoutValidation("gray", "GRAY");
        });
        Assert.Equal("NONE", answer.Status);
        Assert.Contains(fixture.Logs.GetSnapshot(), r => r.Level == LogLevel.Debug && r.Message.Contains("repeated header", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Two_gray_header_lines_are_ignored()
    {
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, fixture.App.Port);
        var stream = socket.GetStream();
        var raw = "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\ngray: GRAY\r\ngray: GRAY\r\nConnection: close\r\n\r\n"u8.ToArray();
        await stream.WriteAsync(raw);
        using var reader = new StreamReader(stream);
        var answer = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.StartsWith("HTTP/1.1 200", answer, StringComparison.Ordinal);
        Assert.Contains("\"status\":\"NONE\"", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_goes_into_the_log_scope_and_the_activity()
    {
        var answer = await Get(h => h.Add("gray", "GRAY"));
        Assert.Equal("GRAY", answer.ActivityTag);
        var inside = fixture.Logs.GetSnapshot().Last(r => r.Message == "inside");
        Assert.Contains(inside.Scopes, scope => scope?.ToString() == "GrayStatus:GRAY");
    }

    [Fact]
    public async Task Status_does_not_leak_between_requests_on_the_same_connection()
    {
        for (var i = 0; i < 20; i++)
        {
            var tagged = i % 2 == 0;
            var answer = await Get(h =>
            {
                if (tagged)
                {
                    h.Add("gray", "GRAY");
                }
            });
            Assert.Equal(tagged ? "GRAY" : "NONE", answer.Status);
        }
    }
}
