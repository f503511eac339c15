using System.Text.Json;
using GrayRelease.Nacos.Emulator.Tests.Support;

namespace GrayRelease.Nacos.Emulator.Tests;

/// <summary>Auth on gRPC: the same users and tokens as HTTP; refusals in the handler's type, 500/403.</summary>
public sealed class GrpcAuthTests : EmulatorTestBase
{
    private const string Register = "{\"headers\":{},\"namespace\":\"public\",\"serviceName\":\"user-app\",\"groupName\":\"DEFAULT_GROUP\",\"type\":\"registerInstance\","
        + "\"instance\":{\"ip\":\"10.0.0.5\",\"port\":7201,\"weight\":1.0,\"healthy\":true,\"enabled\":true,\"ephemeral\":true,\"clusterName\":\"DEFAULT\",\"metadata\":{}},\"module\":\"naming\"}";

    protected override void Configure(NacosEmulatorOptions options)
    {
        options.ServerLine = NacosServerLine.Nacos32;
        options.AuthEnabled = true;
        options.TokenTtl = TimeSpan.FromMinutes(10);
    }

    private async Task<string> LoginAsync()
    {
        var body = await SendTextAsync(HttpMethod.Post, "v3/auth/user/login?username=nacos", content: Form(("password", "nacos")));
        return JsonDocument.Parse(body).RootElement.GetProperty("accessToken").GetString()!;
    }

    [Fact]
    public async Task Secured_calls_need_the_http_token_and_health_checks_do_not()
    {
        await using var client = await NacosGrpcTestClient.ConnectAsync(Emulator.GrpcAddress!, "naming", Timeout);
        Assert.Equal("HealthCheckResponse", (await client.CallAsync("HealthCheckRequest", "{\"headers\":{}}", cancellationToken: Timeout)).Type);

        var refused = await client.CallAsync("InstanceRequest", Register, cancellationToken: Timeout);
        Assert.Equal("InstanceResponse", refused.Type);
        JsonShape.AssertSame(Fixtures.Json("grpc/InstanceResponse.authFailed.json"), refused.Body);
        Assert.Equal(403, refused.Body.GetProperty("errorCode").GetInt32());
        Assert.Equal("Code: 401, Message: User not found! Please check user exist or password is right!.", refused.Body.GetProperty("message").GetString());

        var invalid = await client.CallAsync("InstanceRequest", Register, new Dictionary<string, string> { ["accessToken"] = "forged" }, Timeout);
        Assert.Equal("Code: 401, Message: token invalid!.", invalid.Body.GetProperty("message").GetString());

        var token = await LoginAsync();
        var accepted = await client.CallAsync("InstanceRequest", Register, new Dictionary<string, string> { ["accessToken"] = token }, Timeout);
        Assert.Equal(200, accepted.Body.GetProperty("resultCode").GetInt32());
        Assert.Single(Emulator.GetInstances("user-app"));

        Clock.Advance(TimeSpan.FromMinutes(11));
        var expired = await client.CallAsync("InstanceRequest", Register, new Dictionary<string, string> { ["accessToken"] = token }, Timeout);
        var fixture = Fixtures.Json("grpc/InstanceResponse.authFailed.json");
        JsonShape.AssertSame(fixture, expired.Body);
        foreach (var field in (string[])["resultCode", "errorCode", "message", "success"])
        {
            Assert.Equal(fixture.GetProperty(field).GetRawText(), expired.Body.GetProperty(field).GetRawText());
        }
    }

    [Fact]
    public async Task Auth_off_needs_no_token()
    {
        await using var emulator = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos32 }, Timeout);
        await using var client = await NacosGrpcTestClient.ConnectAsync(emulator.GrpcAddress!, "naming", Timeout);
        var answer = await client.CallAsync("InstanceRequest", Register, cancellationToken: Timeout);
        Assert.Equal(200, answer.Body.GetProperty("resultCode").GetInt32());
    }
}
