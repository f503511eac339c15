using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using GrayRelease.Nacos.Emulator.Tests.Support;

namespace GrayRelease.Nacos.Emulator.Tests;

public sealed class ResponseShapeTests : EmulatorTestBase
{
    private const string UserApp = "serviceName=DEFAULT_GROUP%40%40user-app&groupName=DEFAULT_GROUP&namespaceId=public";

    protected override void Configure(NacosEmulatorOptions options) => options.AuthEnabled = false;

    [Fact]
    public async Task Instance_list_has_the_shape_of_the_fixture()
    {
        await RegisterAsync(UserApp + "&ip=10.0.0.5&port=7201&metadata=%7B%22version%22%3A%22V1%22%7D");
        await RegisterAsync(UserApp + "&ip=10.0.0.6&port=7202&weight=2.5&metadata=%7B%22version%22%3A%22V2%22%2C%22preserved.register.source%22%3A%22SPRING_CLOUD%22%7D");

        var list = await ListAsync(UserApp + "&clusters=&healthyOnly=false");

        JsonShape.AssertSame(Fixtures.Json("instance-list.json"), list);
        var hosts = list.GetProperty("hosts");
        Assert.Equal(2, hosts.GetArrayLength());
        Assert.Equal(2.5, hosts[1].GetProperty("weight").GetDouble());
        Assert.Equal("10.0.0.5#7201#DEFAULT#DEFAULT_GROUP@@user-app", hosts[0].GetProperty("instanceId").GetString());
    }

    [Fact]
    public async Task Empty_instance_list_has_the_shape_of_the_fixture()
    {
        var list = await ListAsync("serviceName=DEFAULT_GROUP%40%40no-such-app&clusters=");

        JsonShape.AssertSame(Fixtures.Json("instance-list-empty.json"), list);
        Assert.Equal("DEFAULT_GROUP@@no-such-app", list.GetProperty("name").GetString());
        Assert.Equal(0, list.GetProperty("hosts").GetArrayLength());
    }

    [Fact]
    public async Task Beat_answers_have_the_shape_of_the_fixtures()
    {
        await RegisterAsync(UserApp + "&ip=10.0.0.5&port=7201");

        var known = JsonDocument.Parse(await SendTextAsync(HttpMethod.Put, "v1/ns/instance/beat?" + UserApp + "&ip=10.0.0.5&port=7201")).RootElement;
        var unknown = JsonDocument.Parse(await SendTextAsync(HttpMethod.Put, "v1/ns/instance/beat?" + UserApp + "&ip=10.0.0.9&port=1")).RootElement;

        JsonShape.AssertSame(Fixtures.Json("beat-ok.json"), known);
        JsonShape.AssertSame(Fixtures.Json("beat-unknown-instance.json"), unknown);
        Assert.Equal(10200, known.GetProperty("code").GetInt32());
        Assert.Equal(20404, unknown.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Login_answer_has_the_shape_of_the_fixture()
    {
        using var response = await SendAsync(HttpMethod.Post, "v1/auth/login", Form(("username", "nacos"), ("password", "nacos")));
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Timeout)).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonShape.AssertSame(Fixtures.Json("login.json"), body);
        Assert.Equal("Bearer " + body.GetProperty("accessToken").GetString(), response.Headers.GetValues("Authorization").Single());
        Assert.Equal(18000, body.GetProperty("tokenTtl").GetInt32());
    }

    [Fact]
    public async Task V2_list_and_error_have_the_envelope_of_the_fixtures()
    {
        await SendTextAsync(HttpMethod.Post, "v2/ns/instance?serviceName=user-app&groupName=DEFAULT_GROUP&ip=10.0.0.5&port=7201&metadata=%7B%22version%22%3A%22V1%22%7D");

        var list = await GetJsonAsync("v2/ns/instance/list?serviceName=user-app&groupName=DEFAULT_GROUP");
        var error = JsonDocument.Parse(await SendTextAsync(HttpMethod.Get, "v2/ns/instance/list?groupName=DEFAULT_GROUP", HttpStatusCode.BadRequest)).RootElement;

        JsonShape.AssertSame(Fixtures.Json("v2-instance-list.json"), list);
        JsonShape.AssertSame(Fixtures.Json("v2-error.json"), error);
        Assert.Equal(Fixtures.Json("v2-error.json").GetRawText(), error.GetRawText());
    }

    [Fact]
    public async Task Udp_push_datagram_has_the_shape_of_the_fixture()
    {
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var udpPort = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
        await SendAsync(HttpMethod.Get, $"v1/ns/instance/list?{UserApp}&clusters=&udpPort={udpPort}&clientIP=127.0.0.1", configure: r => r.Headers.TryAddWithoutValidation("User-Agent", "Nacos-Java-Client:v1.0.0"));

        Emulator.RegisterInstance("user-app", "10.0.0.5", 7201, new Dictionary<string, string> { ["version"] = "V1" });
        var datagram = await udp.ReceiveAsync(Timeout);

        var push = JsonDocument.Parse(Decompress(datagram.Buffer)).RootElement;
        JsonShape.AssertSame(Fixtures.Json("udp-push.json"), push);
        using var data = JsonDocument.Parse(push.GetProperty("data").GetString()!);
        // The fixture's data carries groupName, but 2.x/3.x servers push without it (issue 11 item 18):
        // push/v2/executor/PushExecutorUdpImpl.replaceServiceInfoName copies name, clusters, hosts, lastRefTime and
        // cacheMillis into a new ServiceInfo, and JacksonUtils (NON_NULL) leaves the null groupName out.
        var expected = System.Text.Json.Nodes.JsonNode.Parse(Fixtures.Json("udp-push.json").GetProperty("data").GetString()!)!.AsObject();
        Assert.True(expected.Remove("groupName"));
        using var fixtureData = JsonDocument.Parse(expected.ToJsonString());
        JsonShape.AssertSame(fixtureData.RootElement, data.RootElement);
    }

    [Fact]
    public async Task Listener_answer_names_changed_configs_exactly_like_the_fixture()
    {
        Emulator.PublishConfig("common-config.yaml", "DEFAULT_GROUP", "a: 1");
        Emulator.PublishConfig("gateway-app.yaml", "DEFAULT_GROUP", "b: 2");
        var probe = "common-config.yaml\u0002DEFAULT_GROUP\u0002\u0001gateway-app.yaml\u0002DEFAULT_GROUP\u0002stale\u0001";

        var answer = await SendTextAsync(HttpMethod.Post, "v1/cs/configs/listener", content: Form(("Listening-Configs", probe)));

        Assert.Equal(Fixtures.Text("config-listener-changed.txt").TrimEnd('\n', '\r'), answer);
    }

    internal static string Decompress(byte[] datagram)
    {
        if (datagram.Length < 2 || datagram[0] != 0x1f || datagram[1] != 0x8b)
        {
            return Encoding.UTF8.GetString(datagram);
        }

        using var input = new GZipStream(new MemoryStream(datagram), CompressionMode.Decompress);
        using var reader = new StreamReader(input, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
