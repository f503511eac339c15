using System.Net;
using System.Text.Json;
using GrayRelease.Nacos.Emulator.Tests.Support;

namespace GrayRelease.Nacos.Emulator.Tests;

public sealed class AuthTests : EmulatorTestBase
{
    protected override void Configure(NacosEmulatorOptions options)
    {
        // A 3.x line: it serves the v1 logins and the v3 one (a 2.x server has no v3 login).
        options.ServerLine = NacosServerLine.Nacos31;
        options.AuthEnabled = true;
        options.UserName = "ops";
        options.Password = "s3cret";
        options.TokenTtl = TimeSpan.FromMinutes(10);
    }

    [Theory]
    [InlineData("v1/ns/instance/list?serviceName=a")]
    [InlineData("v1/cs/configs?dataId=a.yaml&group=DEFAULT_GROUP")]
    public async Task Calls_without_a_token_are_refused_with_403_plain_text(string uri)
    {
        using var response = await SendAsync(HttpMethod.Get, uri);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("v1/auth/login")]
    [InlineData("v1/auth/users/login")]
    [InlineData("v3/auth/user/login")]
    public async Task Login_with_a_form_gives_a_token_that_works_as_query_parameter(string path)
    {
        var token = await LoginAsync(path, Form(("username", "ops"), ("password", "s3cret")));

        await SendTextAsync(HttpMethod.Get, "v1/ns/instance/list?serviceName=a&accessToken=" + Uri.EscapeDataString(token));
    }

    [Fact]
    public async Task Login_with_query_parameters_gives_a_token_that_works_as_header()
    {
        var token = await LoginAsync("v1/auth/login?username=ops&password=s3cret", null);

        using var withHeader = await SendAsync(HttpMethod.Get, "v1/ns/instance/list?serviceName=a", configure: r => r.Headers.TryAddWithoutValidation("accessToken", token));
        using var withBearer = await SendAsync(HttpMethod.Get, "v1/ns/instance/list?serviceName=a", configure: r => r.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token));

        Assert.Equal(HttpStatusCode.OK, withHeader.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withBearer.StatusCode);
    }

    [Fact]
    public async Task A_token_in_a_form_body_works_for_config_publish()
    {
        var token = await LoginAsync("v1/auth/login", Form(("username", "ops"), ("password", "s3cret")));

        await SendTextAsync(HttpMethod.Post, "v1/cs/configs", content: Form(("dataId", "a.yaml"), ("group", "DEFAULT_GROUP"), ("content", "x"), ("accessToken", token)));

        Assert.Equal("x", Emulator.GetConfig("a.yaml", "DEFAULT_GROUP"));
    }

    [Fact]
    public async Task Wrong_credentials_are_refused_with_403()
    {
        using var response = await SendAsync(HttpMethod.Post, "v1/auth/login", Form(("username", "ops"), ("password", "wrong")));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Credentials_on_each_call_are_accepted_instead_of_a_token()
    {
        await SendTextAsync(HttpMethod.Get, "v1/ns/instance/list?serviceName=a&username=ops&password=s3cret");
        await SendTextAsync(HttpMethod.Get, "v1/ns/instance/list?serviceName=a&username=ops&password=nope", HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task A_token_expires_after_its_ttl()
    {
        var token = await LoginAsync("v1/auth/login", Form(("username", "ops"), ("password", "s3cret")));
        var uri = "v1/ns/instance/list?serviceName=a&accessToken=" + Uri.EscapeDataString(token);

        Clock.Advance(TimeSpan.FromMinutes(9));
        await SendTextAsync(HttpMethod.Get, uri);
        Clock.Advance(TimeSpan.FromMinutes(1));
        var refused = await SendTextAsync(HttpMethod.Get, uri, HttpStatusCode.Forbidden);

        Assert.Contains("expired", refused, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_token_is_refused()
    {
        await SendTextAsync(HttpMethod.Get, "v1/ns/instance/list?serviceName=a&accessToken=forged", HttpStatusCode.Forbidden);
    }

    private async Task<string> LoginAsync(string path, HttpContent? content)
    {
        var body = await SendTextAsync(HttpMethod.Post, path, content: content);
        using var document = JsonDocument.Parse(body);
        Assert.Equal(600, document.RootElement.GetProperty("tokenTtl").GetInt32());
        Assert.Equal("ops", document.RootElement.GetProperty("username").GetString());
        return document.RootElement.GetProperty("accessToken").GetString()!;
    }
}
