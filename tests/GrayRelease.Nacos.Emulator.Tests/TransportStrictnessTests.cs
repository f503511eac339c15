using System.Net;
using System.Text.Json;
using GrayRelease.Nacos.Emulator.Config;
using GrayRelease.Nacos.Emulator.Tests.Support;

namespace GrayRelease.Nacos.Emulator.Tests;

/// <summary>Answers that follow the real server: 410 with the v1 API off, 403 without a permission, 503, config types.</summary>
public sealed class TransportStrictnessTests : EmulatorTestBase
{
    protected override void Configure(NacosEmulatorOptions options)
    {
        options.AuthEnabled = true;
        options.UserName = "ops";
        options.Password = "s3cret";
    }

    [Fact]
    public async Task With_the_v1_api_gone_every_v1_call_is_410_with_the_servers_message_and_the_v3_login_works()
    {
        await using var gone = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos31, V1ApiGone = true, AuthEnabled = true, UserName = "ops", Password = "s3cret" }, Timeout);
        using var http = new HttpClient { BaseAddress = gone.BaseAddress };

        using var login = await http.PostAsync("v3/auth/user/login", Form(("username", "ops"), ("password", "s3cret")), Timeout);
        foreach (var path in new[] { "v1/auth/login", "v1/auth/users/login", "v1/ns/instance/list?serviceName=a", "v1/cs/configs?dataId=a.yaml&group=DEFAULT_GROUP" })
        {
            using var response = path.Contains("login", StringComparison.Ordinal)
                ? await http.PostAsync(path, Form(("username", "ops"), ("password", "s3cret")), Timeout)
                : await http.GetAsync(path, Timeout);
            var body = await response.Content.ReadAsStringAsync(Timeout);

            Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
            using var document = JsonDocument.Parse(body);
            Assert.Equal(410, document.RootElement.GetProperty("status").GetInt32());
            Assert.Contains("nacos.core.api.compatibility.client.enabled=true", document.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Equal("/nacos/" + path.Split('?')[0], document.RootElement.GetProperty("path").GetString());
        }

        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
    }

    [Fact]
    public async Task A_denied_permission_is_a_403_with_the_servers_message_after_a_valid_token()
    {
        var token = await LoginAsync();
        Emulator.Faults.PathPrefix = "/nacos/v1/cs/";
        Emulator.Faults.PermissionDenied = true;

        using var denied = await SendAsync(HttpMethod.Get, "v1/cs/configs?dataId=a.yaml&group=DEFAULT_GROUP&accessToken=" + token);
        var body = await denied.Content.ReadAsStringAsync(Timeout);
        var allowed = await SendTextAsync(HttpMethod.Get, "v1/ns/instance/list?serviceName=a&accessToken=" + token);
        var noToken = await SendTextAsync(HttpMethod.Get, "v1/cs/configs?dataId=a.yaml&group=DEFAULT_GROUP", HttpStatusCode.Forbidden);

        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        using var document = JsonDocument.Parse(body);
        Assert.Equal("Code: 403, Message: authorization failed!.", document.RootElement.GetProperty("message").GetString());
        Assert.Contains("DEFAULT_GROUP@@a", allowed, StringComparison.Ordinal);
        Assert.Equal("user not found!", noToken);
    }

    [Theory]
    [InlineData(503)]
    [InlineData(502)]
    public async Task Server_errors_answer_the_chosen_status(int status)
    {
        var token = await LoginAsync();
        Emulator.Faults.ServerErrorStatusCode = status;
        Emulator.Faults.ServerErrors = true;

        await SendTextAsync(HttpMethod.Get, "v1/ns/instance/list?serviceName=a&accessToken=" + token, (HttpStatusCode)status);
        Assert.Throws<ArgumentOutOfRangeException>(() => Emulator.Faults.ServerErrorStatusCode = 404);
    }

    [Fact]
    public async Task A_missing_config_is_a_404_with_exactly_the_servers_body()
    {
        var token = await LoginAsync();

        var body = await SendTextAsync(HttpMethod.Get, "v1/cs/configs?dataId=nothing.yaml&group=DEFAULT_GROUP&accessToken=" + token, HttpStatusCode.NotFound);

        Assert.Equal("config data not exist\n", body);
    }

    [Theory]
    [InlineData("yaml", "yaml", "text/plain;charset=UTF-8")]
    [InlineData("yml", "text", "text/plain;charset=UTF-8")]
    [InlineData("YAML", "text", "text/plain;charset=UTF-8")]
    [InlineData("json", "json", "application/json;charset=UTF-8")]
    [InlineData("bogus", "text", "text/plain;charset=UTF-8")]
    [InlineData("", "text", "text/plain;charset=UTF-8")]
    public async Task An_unknown_config_type_is_stored_as_text_as_the_server_does(string type, string stored, string contentType)
    {
        var token = await LoginAsync();
        await SendTextAsync(HttpMethod.Post, "v1/cs/configs", content: Form(("dataId", "a.yaml"), ("group", "DEFAULT_GROUP"), ("content", "a: 1"), ("type", type), ("accessToken", token)));

        using var response = await SendAsync(HttpMethod.Get, "v1/cs/configs?dataId=a.yaml&group=DEFAULT_GROUP&accessToken=" + token);

        Assert.Equal(stored, response.Headers.GetValues("Config-Type").Single());
        Assert.Equal(contentType, response.Content.Headers.ContentType!.ToString().Replace(" ", string.Empty, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(30000, 29500)]
    [InlineData(10500, 10000)]
    [InlineData(1500, 10000)]
    [InlineData(0, 10000)]
    [InlineData(-5, 10000)]
    public void The_long_poll_hold_is_at_least_ten_seconds_as_the_server_holds(long header, long expectedMillis)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMillis), ConfigApi.HoldFor(header));
    }

    private async Task<string> LoginAsync()
    {
        var body = await SendTextAsync(HttpMethod.Post, "v1/auth/login", content: Form(("username", "ops"), ("password", "s3cret")));
        using var document = JsonDocument.Parse(body);
        return Uri.EscapeDataString(document.RootElement.GetProperty("accessToken").GetString()!);
    }
}
