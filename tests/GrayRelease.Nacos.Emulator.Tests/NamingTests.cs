using System.Net;
using System.Text.Json;
using GrayRelease.Nacos.Emulator.Tests.Support;

namespace GrayRelease.Nacos.Emulator.Tests;

public sealed class NamingTests : EmulatorTestBase
{
    private const string Svc = "serviceName=DEFAULT_GROUP%40%40order-app&groupName=DEFAULT_GROUP";

    [Fact]
    public async Task Registered_instance_is_listed_with_json_booleans_and_a_numeric_weight()
    {
        await RegisterAsync(Svc + "&ip=127.0.0.1&port=7001&weight=3&healthy=true&enable=true&metadata=%7B%22version%22%3A%22V2%22%7D");

        var host = (await ListAsync(Svc)).GetProperty("hosts")[0];

        Assert.Equal(JsonValueKind.True, host.GetProperty("healthy").ValueKind);
        Assert.Equal(JsonValueKind.True, host.GetProperty("enabled").ValueKind);
        Assert.Equal(JsonValueKind.Number, host.GetProperty("weight").ValueKind);
        Assert.Equal(3.0, host.GetProperty("weight").GetDouble());
        Assert.Equal("V2", host.GetProperty("metadata").GetProperty("version").GetString());
        Assert.Equal("DEFAULT_GROUP@@order-app", host.GetProperty("serviceName").GetString());
    }

    [Fact]
    public async Task Parameters_in_the_query_string_with_an_empty_body_and_no_content_type_are_read()
    {
        using var response = await SendAsync(HttpMethod.Post, "v1/ns/instance?" + Svc + "&ip=127.0.0.1&port=7001", new ByteArrayContent([]));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.RequestMessage!.Content!.Headers.ContentType);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync(Timeout));
        Assert.Single(Emulator.GetInstances("order-app"));
    }

    [Fact]
    public async Task Parameters_in_a_form_body_are_read_too()
    {
        await SendTextAsync(HttpMethod.Post, "v1/ns/instance", content: Form(("serviceName", "order-app"), ("ip", "127.0.0.1"), ("port", "7001")));

        Assert.Single(Emulator.GetInstances("order-app"));
    }

    [Fact]
    public async Task Deregistration_removes_the_instance_even_without_a_group_parameter()
    {
        await RegisterAsync(Svc + "&ip=127.0.0.1&port=7001");
        await RegisterAsync(Svc + "&ip=127.0.0.1&port=7002");

        var answer = await SendTextAsync(HttpMethod.Delete, "v1/ns/instance?serviceName=DEFAULT_GROUP%40%40order-app&ip=127.0.0.1&port=7001&ephemeral=true");

        Assert.Equal("ok", answer);
        Assert.Equal(["127.0.0.1:7002"], HostAddresses(await ListAsync(Svc)));
    }

    [Fact]
    public async Task Grouped_and_bare_names_address_the_same_service()
    {
        await RegisterAsync("serviceName=order-app&ip=127.0.0.1&port=7001");
        await RegisterAsync("serviceName=DEFAULT_GROUP%40%40order-app&ip=127.0.0.1&port=7002");

        var bare = await ListAsync("serviceName=order-app");
        var grouped = await ListAsync("serviceName=DEFAULT_GROUP%40%40order-app&groupName=DEFAULT_GROUP");

        Assert.Equal(["127.0.0.1:7001", "127.0.0.1:7002"], HostAddresses(bare));
        Assert.Equal(HostAddresses(bare), HostAddresses(grouped));
        Assert.Equal("DEFAULT_GROUP@@order-app", bare.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Namespaces_and_groups_are_isolated_and_public_equals_the_empty_namespace()
    {
        await RegisterAsync("serviceName=order-app&ip=127.0.0.1&port=7001");
        await RegisterAsync("serviceName=order-app&ip=127.0.0.1&port=7002&namespaceId=dev");
        await RegisterAsync("serviceName=order-app&ip=127.0.0.1&port=7003&groupName=GRAY_GROUP");

        Assert.Equal(["127.0.0.1:7001"], HostAddresses(await ListAsync("serviceName=order-app&namespaceId=public")));
        Assert.Equal(["127.0.0.1:7001"], HostAddresses(await ListAsync("serviceName=order-app&namespaceId=")));
        Assert.Equal(["127.0.0.1:7002"], HostAddresses(await ListAsync("serviceName=order-app&namespaceId=dev")));
        var gray = await ListAsync("serviceName=GRAY_GROUP%40%40order-app");
        Assert.Equal(["127.0.0.1:7003"], HostAddresses(gray));
        Assert.Equal("GRAY_GROUP", gray.GetProperty("groupName").GetString());
    }

    [Fact]
    public async Task Clusters_filter_the_hosts_and_are_echoed_exactly()
    {
        await RegisterAsync(Svc + "&ip=127.0.0.1&port=7001&clusterName=A");
        await RegisterAsync(Svc + "&ip=127.0.0.1&port=7002&clusterName=B");
        await RegisterAsync(Svc + "&ip=127.0.0.1&port=7003");

        var a = await ListAsync(Svc + "&clusters=A");
        var ab = await ListAsync(Svc + "&clusters=B%2CA");
        var all = await ListAsync(Svc + "&clusters=");

        Assert.Equal(["127.0.0.1:7001"], HostAddresses(a));
        Assert.Equal("A", a.GetProperty("clusters").GetString());
        Assert.Equal(["127.0.0.1:7001", "127.0.0.1:7002"], HostAddresses(ab));
        Assert.Equal("B,A", ab.GetProperty("clusters").GetString());
        Assert.Equal(3, all.GetProperty("hosts").GetArrayLength());
        Assert.Equal(string.Empty, all.GetProperty("clusters").GetString());
        Assert.Equal("127.0.0.1#7001#A#DEFAULT_GROUP@@order-app", a.GetProperty("hosts")[0].GetProperty("instanceId").GetString());
    }

    [Fact]
    public async Task HealthyOnly_leaves_out_unhealthy_instances()
    {
        await RegisterAsync(Svc + "&ip=127.0.0.1&port=7001");
        await RegisterAsync(Svc + "&ip=127.0.0.1&port=7002&healthy=false");

        Assert.Equal(["127.0.0.1:7001"], HostAddresses(await ListAsync(Svc + "&healthyOnly=true")));
        Assert.Equal(2, (await ListAsync(Svc + "&healthyOnly=false")).GetProperty("hosts").GetArrayLength());
    }

    [Theory]
    [InlineData("enable=false")]
    [InlineData("enabled=false")]
    [InlineData("enabled=false&enable=true")]
    public async Task Enable_and_enabled_both_disable_an_instance(string parameter)
    {
        await RegisterAsync(Svc + "&ip=127.0.0.1&port=7001&" + parameter);

        Assert.False(Emulator.GetInstances("order-app").Single().Enabled);
        Assert.Empty(HostAddresses(await ListAsync(Svc)));
    }

    [Fact]
    public async Task A_host_object_does_not_change_between_answers_unless_the_instance_changed()
    {
        await RegisterAsync(Svc + "&ip=127.0.0.1&port=7001&metadata=%7B%22b%22%3A%221%22%2C%22a%22%3A%222%22%7D");
        await RegisterAsync(Svc + "&ip=127.0.0.1&port=7002");

        var first = (await ListAsync(Svc)).GetProperty("hosts").GetRawText();
        await SendTextAsync(HttpMethod.Put, "v1/ns/instance/beat?" + Svc + "&ip=127.0.0.1&port=7001");
        await RegisterAsync(Svc + "&ip=127.0.0.1&port=7001&metadata=%7B%22b%22%3A%221%22%2C%22a%22%3A%222%22%7D");
        var second = (await ListAsync(Svc)).GetProperty("hosts").GetRawText();
        Emulator.SetInstanceWeight("order-app", "127.0.0.1", 7002, 5);
        var third = (await ListAsync(Svc)).GetProperty("hosts").GetRawText();

        Assert.Equal(first, second);
        Assert.NotEqual(second, third);
    }

    [Fact]
    public async Task Light_beat_for_an_unknown_instance_answers_20404()
    {
        var answer = JsonDocument.Parse(await SendTextAsync(HttpMethod.Put, "v1/ns/instance/beat?" + Svc + "&ip=127.0.0.1&port=7001")).RootElement;

        Assert.Equal(20404, answer.GetProperty("code").GetInt32());
        Assert.True(answer.GetProperty("lightBeatEnabled").GetBoolean());
        Assert.Empty(Emulator.GetInstances("order-app"));
    }

    [Fact]
    public async Task Full_beat_for_an_unknown_instance_re_creates_it_from_the_beat()
    {
        var beat = Uri.EscapeDataString("""{"serviceName":"DEFAULT_GROUP@@order-app","ip":"127.0.0.1","port":7001,"cluster":"C1","weight":2.0,"metadata":{"version":"V2"},"scheduled":true}""");

        var answer = JsonDocument.Parse(await SendTextAsync(HttpMethod.Put, $"v1/ns/instance/beat?{Svc}&beat={beat}")).RootElement;

        Assert.Equal(10200, answer.GetProperty("code").GetInt32());
        var instance = Emulator.GetInstances("order-app").Single();
        Assert.Equal(("127.0.0.1", 7001, "C1", 2.0, "V2"), (instance.Ip, instance.Port, instance.ClusterName, instance.Weight, instance.Metadata["version"]));
        Assert.True(instance.Ephemeral);
    }

    [Fact]
    public async Task Beat_answer_carries_the_configured_interval_and_the_metadata_override()
    {
        await RegisterAsync(Svc + "&ip=127.0.0.1&port=7001&metadata=" + Uri.EscapeDataString("""{"preserved.heart.beat.interval":"2000"}"""));
        await RegisterAsync(Svc + "&ip=127.0.0.1&port=7002");

        var overridden = JsonDocument.Parse(await SendTextAsync(HttpMethod.Put, "v1/ns/instance/beat?" + Svc + "&ip=127.0.0.1&port=7001")).RootElement;
        var plain = JsonDocument.Parse(await SendTextAsync(HttpMethod.Put, "v1/ns/instance/beat?" + Svc + "&ip=127.0.0.1&port=7002")).RootElement;

        Assert.Equal(2000, overridden.GetProperty("clientBeatInterval").GetInt32());
        Assert.Equal(5000, plain.GetProperty("clientBeatInterval").GetInt32());
    }

    [Theory]
    [InlineData("v1/ns/instance?ip=127.0.0.1&port=1", "serviceName")]
    [InlineData("v1/ns/instance?serviceName=a&port=1", "ip")]
    [InlineData("v1/ns/instance?serviceName=a&ip=127.0.0.1", "port")]
    public async Task Register_without_a_required_parameter_is_a_400_naming_it(string uri, string parameter)
    {
        var body = await SendTextAsync(HttpMethod.Post, uri, HttpStatusCode.BadRequest);

        Assert.Contains($"'{parameter}'", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("v1/ns/instance/list?clusters=")]
    [InlineData("v1/ns/instance/beat?ip=127.0.0.1&port=1")]
    public async Task List_and_beat_without_serviceName_are_a_400(string uri)
    {
        var method = uri.Contains("beat", StringComparison.Ordinal) ? HttpMethod.Put : HttpMethod.Get;

        var body = await SendTextAsync(method, uri, HttpStatusCode.BadRequest);

        Assert.Contains("'serviceName'", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("weight=10001")]
    [InlineData("port=abc")]
    [InlineData("metadata=%7Bnot-json")]
    public async Task Invalid_values_are_a_400(string parameter)
    {
        var query = "serviceName=a&ip=127.0.0.1&port=1&" + parameter;

        await SendTextAsync(HttpMethod.Post, "v1/ns/instance?" + query.Replace("port=1&port=abc", "port=abc", StringComparison.Ordinal), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Detail_and_update_work_on_a_registered_instance()
    {
        await RegisterAsync(Svc + "&ip=127.0.0.1&port=7001&metadata=%7B%22version%22%3A%22V1%22%7D");

        await SendTextAsync(HttpMethod.Put, "v1/ns/instance?" + Svc + "&ip=127.0.0.1&port=7001&weight=4&metadata=%7B%22version%22%3A%22V2%22%7D");
        var detail = await GetJsonAsync("v1/ns/instance?" + Svc + "&ip=127.0.0.1&port=7001");

        Assert.Equal(4.0, detail.GetProperty("weight").GetDouble());
        Assert.Equal("V2", detail.GetProperty("metadata").GetProperty("version").GetString());
        await SendTextAsync(HttpMethod.Get, "v1/ns/instance?" + Svc + "&ip=127.0.0.1&port=9", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task V2_register_list_beat_and_deregister_use_bare_names_with_a_group()
    {
        const string V2 = "serviceName=order-app&groupName=G1&namespaceId=public";
        var registered = await GetEnvelopeAsync(HttpMethod.Post, "v2/ns/instance?" + V2 + "&ip=127.0.0.1&port=7001&enabled=true");
        var list = await GetEnvelopeAsync(HttpMethod.Get, "v2/ns/instance/list?" + V2 + "&clusterName=");
        var beat = JsonDocument.Parse(await SendTextAsync(HttpMethod.Put, "v2/ns/instance/beat?" + V2 + "&ip=127.0.0.1&port=7001")).RootElement;
        var detail = await GetEnvelopeAsync(HttpMethod.Get, "v2/ns/instance?" + V2 + "&ip=127.0.0.1&port=7001");
        await GetEnvelopeAsync(HttpMethod.Delete, "v2/ns/instance?" + V2 + "&ip=127.0.0.1&port=7001");

        Assert.Equal("ok", registered.GetString());
        Assert.Equal("G1@@order-app", list.GetProperty("name").GetString());
        Assert.Equal(["127.0.0.1:7001"], HostAddresses(list));
        Assert.Equal(10200, beat.GetProperty("code").GetInt32());
        Assert.Equal("G1@@order-app", detail.GetProperty("serviceName").GetString());
        Assert.Empty(Emulator.GetInstances("order-app", "G1"));
    }

    [Fact]
    public async Task V2_detail_of_an_unknown_instance_is_a_404_envelope()
    {
        var body = JsonDocument.Parse(await SendTextAsync(HttpMethod.Get, "v2/ns/instance?serviceName=a&ip=127.0.0.1&port=1", HttpStatusCode.NotFound)).RootElement;

        Assert.Equal(20004, body.GetProperty("code").GetInt32());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("data").ValueKind);
    }

    [Fact]
    public async Task Unknown_headers_are_ignored()
    {
        using var response = await SendAsync(HttpMethod.Post, "v1/ns/instance?" + Svc + "&ip=127.0.0.1&port=7001", configure: request =>
        {
            foreach (var header in new[] { "Spas-Signature", "timeStamp", "exConfigInfo", "RequestId", "Request-Module", "Client-Version" })
            {
                request.Headers.TryAddWithoutValidation(header, "x");
            }

            request.Headers.TryAddWithoutValidation("User-Agent", "Nacos-Java-Client:v1.0.0");
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Operator_actions_change_what_clients_see()
    {
        Emulator.RegisterInstance("order-app", "127.0.0.1", 7001, new Dictionary<string, string> { ["version"] = "V1" });
        Emulator.RegisterInstance("order-app", "127.0.0.1", 7002);

        Assert.True(Emulator.SetInstanceEnabled("order-app", "127.0.0.1", 7001, false));
        Assert.True(Emulator.SetInstanceMetadata("order-app", "127.0.0.1", 7002, new Dictionary<string, string> { ["version"] = "V3" }));
        var list = await ListAsync(Svc);
        Assert.True(Emulator.RemoveInstance("order-app", "127.0.0.1", 7002));

        Assert.Equal(["127.0.0.1:7002"], HostAddresses(list));
        Assert.Equal("V3", list.GetProperty("hosts")[0].GetProperty("metadata").GetProperty("version").GetString());
        Assert.False(Emulator.RemoveInstance("order-app", "127.0.0.1", 7002));
        Assert.False(Emulator.SetInstanceWeight("no-such", "127.0.0.1", 1, 1));
    }

    private async Task<JsonElement> GetEnvelopeAsync(HttpMethod method, string uri)
    {
        var body = JsonDocument.Parse(await SendTextAsync(method, uri)).RootElement;
        Assert.Equal(0, body.GetProperty("code").GetInt32());
        Assert.Equal("success", body.GetProperty("message").GetString());
        return body.GetProperty("data").Clone();
    }
}
