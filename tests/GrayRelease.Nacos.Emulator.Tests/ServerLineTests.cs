using System.Net;
using System.Text.Json;
using GrayRelease.Nacos.Emulator.Tests.Support;

namespace GrayRelease.Nacos.Emulator.Tests;

/// <summary>What each server line serves (PROTOCOL-GRPC.md §9): gRPC, v1/v2/v3 HTTP, UDP push.</summary>
public sealed class ServerLineTests
{
    private const string V1List = "v1/ns/instance/list?serviceName=user-app";
    private const string V2List = "v2/ns/instance/list?serviceName=user-app";
    private const string V3List = "v3/client/ns/instance/list?serviceName=user-app";
    private const string V1Config = "v1/cs/configs?dataId=a.json&group=DEFAULT_GROUP";
    private const string V3Config = "v3/client/cs/config?dataId=a.json&groupName=DEFAULT_GROUP";

    [Theory]
    [InlineData(NacosServerLine.Nacos14, false, HttpStatusCode.OK, HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.NotFound)]
    [InlineData(NacosServerLine.Nacos2, true, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.NotFound, HttpStatusCode.NotFound)]
    [InlineData(NacosServerLine.Nacos31, true, HttpStatusCode.OK, HttpStatusCode.Gone, HttpStatusCode.OK, HttpStatusCode.OK)]
    [InlineData(NacosServerLine.Nacos32, true, HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.OK, HttpStatusCode.OK)]
    public async Task Each_line_serves_its_surface(NacosServerLine line, bool grpc, HttpStatusCode v1, HttpStatusCode v2, HttpStatusCode v3, HttpStatusCode v3Login)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var emulator = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = line }, timeout.Token);
        using var http = new HttpClient { BaseAddress = emulator.BaseAddress };
        emulator.PublishConfig("a.json", "DEFAULT_GROUP", "{}", type: "json");

        Assert.Equal(line, emulator.ServerLine);
        Assert.Equal(grpc, emulator.GrpcAddress is not null);
        Assert.Equal(grpc, emulator.GrpcPort != 0);
        Assert.Equal(v1, (await http.GetAsync(V1List, timeout.Token)).StatusCode);
        Assert.Equal(v1, (await http.GetAsync(V1Config, timeout.Token)).StatusCode);
        Assert.Equal(v2, (await http.GetAsync(V2List, timeout.Token)).StatusCode);
        Assert.Equal(v3, (await http.GetAsync(V3List, timeout.Token)).StatusCode);
        Assert.Equal(v3, (await http.GetAsync(V3Config, timeout.Token)).StatusCode);
        using var login = await http.PostAsync("v3/auth/user/login?username=nacos&password=nacos", null, timeout.Token);
        Assert.Equal(v3Login, login.StatusCode);

        // The v1 users login stays on every line (3.2 keeps it, alibaba/nacos #14050).
        using var v1Login = await http.PostAsync("v1/auth/users/login?username=nacos&password=nacos", null, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, v1Login.StatusCode);

        if (grpc)
        {
            await using var client = await NacosGrpcTestClient.ConnectAsync(emulator.GrpcAddress!, "naming", timeout.Token);
            Assert.NotNull(client.ConnectionId);
        }
    }

    [Fact]
    public async Task Not_served_paths_answer_like_spring_boot()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var emulator = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos32 }, timeout.Token);
        using var http = new HttpClient { BaseAddress = emulator.BaseAddress };
        using var missing = await http.PostAsync("v1/ns/instance?serviceName=a&ip=1.2.3.4&port=80", null, timeout.Token);
        var body = JsonDocument.Parse(await missing.Content.ReadAsStringAsync(timeout.Token)).RootElement;
        Assert.Equal(404, body.GetProperty("status").GetInt32());
        Assert.Equal("Not Found", body.GetProperty("error").GetString());
        Assert.Equal("/nacos/v1/ns/instance", body.GetProperty("path").GetString());
        Assert.Empty(emulator.GetInstances("a"));
    }

    [Fact]
    public async Task On_3_1_the_v2_admin_typed_calls_are_gone_with_the_compatibility_message()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var emulator = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos31 }, timeout.Token);
        using var http = new HttpClient { BaseAddress = emulator.BaseAddress };
        using var gone = await http.PostAsync("v2/ns/instance?serviceName=a&ip=1.2.3.4&port=80", null, timeout.Token);
        Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
        var message = JsonDocument.Parse(await gone.Content.ReadAsStringAsync(timeout.Token)).RootElement.GetProperty("message").GetString()!;
        Assert.Equal(40000, JsonDocument.Parse(message).RootElement.GetProperty("code").GetInt32());
        Assert.Contains("nacos.core.api.compatibility.admin.enabled", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_grpc_port_is_the_http_port_plus_1000_when_the_port_is_fixed()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        for (var attempt = 0; ; attempt++)
        {
            var port = Random.Shared.Next(20000, 30000);
            try
            {
                await using var emulator = await NacosEmulator.StartAsync(new NacosEmulatorOptions { Port = port, ServerLine = NacosServerLine.Nacos32 }, timeout.Token);
                Assert.Equal(port + 1000, emulator.GrpcPort);
                Assert.Equal("http://127.0.0.1:" + (port + 1000), emulator.GrpcAddress);
                return;
            }
            catch (IOException) when (attempt < 5)
            {
                // The port (or port + 1000) was taken: try another.
            }
        }
    }

    [Fact]
    public async Task With_free_ports_the_grpc_port_is_still_the_http_port_plus_1000_and_survives_a_restart()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var emulator = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos32 }, timeout.Token);
        Assert.Equal(emulator.Port + 1000, emulator.GrpcPort);

        await emulator.RestartAsync(timeout.Token);

        Assert.Equal(emulator.Port + 1000, emulator.GrpcPort);
        await using var client = await NacosGrpcTestClient.ConnectAsync(emulator.GrpcAddress!, "naming", timeout.Token);
        Assert.NotNull(client.ConnectionId);
    }

    [Fact]
    public void The_grpc_port_must_fit()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => NacosEmulator.StartAsync(new NacosEmulatorOptions { Port = 65000 }).GetAwaiter().GetResult());
    }
}
