using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using GrayRelease.Nacos.Emulator.Tests.Support;
using GrayRelease.Testing;

namespace GrayRelease.Nacos.Emulator.Tests;

public sealed class ConfigTests : EmulatorTestBase
{
    [Fact]
    public async Task Published_config_is_returned_with_its_md5_and_type()
    {
        var publish = await SendTextAsync(HttpMethod.Post, "v1/cs/configs", content: Form(("dataId", "order-app.yaml"), ("group", "DEFAULT_GROUP"), ("content", "version: V2\nnäme: ü"), ("type", "yaml")));
        using var response = await SendAsync(HttpMethod.Get, "v1/cs/configs?dataId=order-app.yaml&group=DEFAULT_GROUP&tenant=");
        var content = await response.Content.ReadAsStringAsync(Timeout);

        Assert.Equal("true", publish);
        Assert.Equal("version: V2\nnäme: ü", content);
        Assert.Equal(Md5("version: V2\nnäme: ü"), response.Content.Headers.NonValidated["Content-MD5"].ToString());
        Assert.Equal("yaml", response.Headers.GetValues("Config-Type").Single());
    }

    [Fact]
    public async Task Missing_config_is_a_404()
    {
        await SendTextAsync(HttpMethod.Get, "v1/cs/configs?dataId=nothing.yaml&group=DEFAULT_GROUP", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Deleted_config_is_gone()
    {
        Emulator.PublishConfig("order-app.yaml", "DEFAULT_GROUP", "a: 1");

        var answer = await SendTextAsync(HttpMethod.Delete, "v1/cs/configs?dataId=order-app.yaml&group=DEFAULT_GROUP");

        Assert.Equal("true", answer);
        Assert.Null(Emulator.GetConfig("order-app.yaml", "DEFAULT_GROUP"));
        await SendTextAsync(HttpMethod.Get, "v1/cs/configs?dataId=order-app.yaml&group=DEFAULT_GROUP", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Publish_accepts_a_form_labelled_charset_utf8()
    {
        var body = "dataId=a.properties&group=DEFAULT_GROUP&content=" + Uri.EscapeDataString("k=v ü");

        await SendTextAsync(HttpMethod.Post, "v1/cs/configs", content: RawForm(body, "application/x-www-form-urlencoded; charset=utf8"));

        Assert.Equal("k=v ü", Emulator.GetConfig("a.properties", "DEFAULT_GROUP"));
    }

    [Fact]
    public async Task Tenants_are_separate_and_public_is_the_empty_tenant()
    {
        Emulator.PublishConfig("a.yaml", "DEFAULT_GROUP", "default");
        Emulator.PublishConfig("a.yaml", "DEFAULT_GROUP", "dev", tenant: "dev");

        Assert.Equal("default", await SendTextAsync(HttpMethod.Get, "v1/cs/configs?dataId=a.yaml&group=DEFAULT_GROUP&tenant=public"));
        Assert.Equal("dev", await SendTextAsync(HttpMethod.Get, "v1/cs/configs?dataId=a.yaml&group=DEFAULT_GROUP&tenant=dev"));
    }

    [Theory]
    [InlineData("dataId=a%2Fb&group=DEFAULT_GROUP")]
    [InlineData("dataId=a.yaml&group=DEFAULT%20GROUP")]
    [InlineData("group=DEFAULT_GROUP")]
    public async Task Invalid_or_missing_dataId_and_group_are_a_400(string query)
    {
        await SendTextAsync(HttpMethod.Get, "v1/cs/configs?" + query, HttpStatusCode.BadRequest);
        await SendTextAsync(HttpMethod.Post, "v1/cs/configs?" + query + "&content=x", HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Listener_answers_at_once_when_an_md5_differs()
    {
        Emulator.PublishConfig("a.yaml", "DEFAULT_GROUP", "content");
        var stopwatch = Stopwatch.StartNew();

        var answer = await ListenAsync($"a.yaml\u0002DEFAULT_GROUP\u0002{Md5("old")}\u0001", timeoutMillis: 20000);

        Assert.Equal("a.yaml%02DEFAULT_GROUP%01", answer);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task Listener_holds_and_answers_as_soon_as_a_config_is_published()
    {
        Emulator.PublishConfig("a.yaml", "DEFAULT_GROUP", "v1", tenant: "dev");
        var listening = ListenAsync($"a.yaml\u0002DEFAULT_GROUP\u0002{Md5("v1")}\u0002dev\u0001", timeoutMillis: 20000);
        await Eventually.WaitUntilAsync(() => Emulator.HeldConfigListeners == 1, "the listener call to be held", cancellationToken: Timeout);

        Emulator.PublishConfig("a.yaml", "DEFAULT_GROUP", "v2", tenant: "dev");
        var answer = await listening.WaitAsync(TimeSpan.FromSeconds(15), Timeout);

        Assert.Equal("a.yaml%02DEFAULT_GROUP%02dev%01", answer);
    }

    [Fact]
    public async Task Listener_answers_empty_after_holding_at_least_ten_seconds_even_when_asked_for_less()
    {
        // LongPollingService: max(MIN_LONG_POOLING_TIMEOUT = 10 s, Long-Pulling-Timeout - 500 ms). A lower bound on a
        // wall-clock hold cannot race; the upper bound is left alone.
        Emulator.PublishConfig("a.yaml", "DEFAULT_GROUP", "v1");
        var stopwatch = Stopwatch.StartNew();

        var answer = await ListenAsync($"a.yaml\u0002DEFAULT_GROUP\u0002{Md5("v1")}\u0001", timeoutMillis: 1500);

        Assert.Equal(string.Empty, answer);
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(9900), $"answered after {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task Listener_treats_an_empty_md5_of_a_missing_config_as_unchanged_and_reports_its_creation()
    {
        var listening = ListenAsync("new.yaml\u0002DEFAULT_GROUP\u0002\u0001", timeoutMillis: 20000);
        await Eventually.WaitUntilAsync(() => Emulator.HeldConfigListeners == 1, "the listener call to be held", cancellationToken: Timeout);

        Emulator.PublishConfig("new.yaml", "DEFAULT_GROUP", "x");

        Assert.Equal("new.yaml%02DEFAULT_GROUP%01", await listening.WaitAsync(TimeSpan.FromSeconds(15), Timeout));
    }

    [Fact]
    public async Task Listener_reports_a_deleted_config()
    {
        Emulator.PublishConfig("a.yaml", "DEFAULT_GROUP", "v1");
        var listening = ListenAsync($"a.yaml\u0002DEFAULT_GROUP\u0002{Md5("v1")}\u0001", timeoutMillis: 20000);
        await Eventually.WaitUntilAsync(() => Emulator.HeldConfigListeners == 1, "the listener call to be held", cancellationToken: Timeout);

        Emulator.RemoveConfig("a.yaml", "DEFAULT_GROUP");

        Assert.Equal("a.yaml%02DEFAULT_GROUP%01", await listening.WaitAsync(TimeSpan.FromSeconds(15), Timeout));
    }

    [Fact]
    public async Task Listener_with_the_no_hangup_header_answers_empty_at_once()
    {
        Emulator.PublishConfig("a.yaml", "DEFAULT_GROUP", "v1");
        var stopwatch = Stopwatch.StartNew();

        using var response = await SendAsync(
            HttpMethod.Post,
            "v1/cs/configs/listener",
            Form(("Listening-Configs", $"a.yaml\u0002DEFAULT_GROUP\u0002{Md5("v1")}\u0001")),
            request =>
            {
                request.Headers.TryAddWithoutValidation("Long-Pulling-Timeout", "30000");
                request.Headers.TryAddWithoutValidation("Long-Pulling-Timeout-No-Hangup", "true");
            });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(string.Empty, await response.Content.ReadAsStringAsync(Timeout));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task Listener_without_a_probe_is_a_400()
    {
        await SendTextAsync(HttpMethod.Post, "v1/cs/configs/listener", HttpStatusCode.BadRequest, Form(("Listening-Configs", "")));
    }

    private async Task<string> ListenAsync(string probe, int timeoutMillis)
    {
        using var response = await SendAsync(
            HttpMethod.Post,
            "v1/cs/configs/listener",
            Form(("Listening-Configs", probe)),
            request => request.Headers.TryAddWithoutValidation("Long-Pulling-Timeout", timeoutMillis.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync(Timeout);
    }

#pragma warning disable CA5351 // The protocol's md5, not security.
    private static string Md5(string content) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(content)));
#pragma warning restore CA5351
}
