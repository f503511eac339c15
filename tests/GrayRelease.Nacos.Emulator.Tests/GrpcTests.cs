using System.Text.Json;
using GrayRelease.Nacos.Emulator.Tests.Support;

namespace GrayRelease.Nacos.Emulator.Tests;

/// <summary>The gRPC server with a real Grpc.Net.Client channel on loopback, answers compared to fixtures/grpc.</summary>
public sealed class GrpcTests : EmulatorTestBase
{
    private const string Service = "\"namespace\":\"public\",\"serviceName\":\"user-app\",\"groupName\":\"DEFAULT_GROUP\"";
    private const string Query = "serviceName=user-app&groupName=DEFAULT_GROUP";

    protected override void Configure(NacosEmulatorOptions options)
    {
        options.ServerLine = NacosServerLine.Nacos31;
        options.GrpcPushDelay = TimeSpan.FromMilliseconds(20);
    }

    private static string Register(string ip, int port, string cluster = "DEFAULT", string type = "registerInstance") =>
        "{\"headers\":{}," + Service + ",\"type\":\"" + type + "\",\"instance\":{\"ip\":\"" + ip + "\",\"port\":" + port
        + ",\"weight\":1.0,\"healthy\":true,\"enabled\":true,\"ephemeral\":true,\"clusterName\":\"" + cluster
        + "\",\"metadata\":{\"version\":\"V1\"}},\"module\":\"naming\"}";

    private const string Subscribe = "{\"headers\":{}," + Service + ",\"subscribe\":true,\"clusters\":\"\",\"module\":\"naming\"}";

    private Task<NacosGrpcTestClient> ConnectAsync(string module = "naming") =>
        NacosGrpcTestClient.ConnectAsync(Emulator.GrpcAddress!, module, Timeout);

    private static void AssertMatches(string fixture, (string Type, JsonElement Body) answer, params string[] equalFields)
    {
        Assert.Equal(fixture.Split('.')[0], answer.Type);
        var expected = Fixtures.Json("grpc/" + fixture + ".json");
        JsonShape.AssertSame(expected, answer.Body);
        foreach (var field in equalFields)
        {
            Assert.Equal(expected.GetProperty(field).GetRawText(), answer.Body.GetProperty(field).GetRawText());
        }
    }

    [Fact]
    public async Task Server_check_names_the_connection_by_socket_and_setup_is_acknowledged_without_request_id()
    {
        await using var client = await ConnectAsync();
        Assert.Matches(@"^\d+_127\.0\.0\.1_\d+$", client.ConnectionId);
        var ack = client.Received.Single(r => r.Type == "SetupAckRequest").Body;
        JsonShape.AssertSame(Fixtures.Json("grpc/SetupAckRequest.json"), ack);
        Assert.False(ack.TryGetProperty("requestId", out _));
        AssertMatches("HealthCheckResponse", await client.CallAsync("HealthCheckRequest", "{\"headers\":{},\"module\":\"internal\"}", cancellationToken: Timeout), "resultCode", "errorCode", "success");
    }

    [Fact]
    public async Task Calls_before_setup_are_unregistered_301_and_unknown_types_302()
    {
        await using var client = NacosGrpcTestClient.Create(Emulator.GrpcAddress!);
        AssertMatches("ServerCheckResponse", await client.CallAsync("ServerCheckRequest", "{}", cancellationToken: Timeout), "resultCode", "supportAbilityNegotiation");
        AssertMatches("ErrorResponse", await client.CallAsync("InstanceRequest", Register("10.0.0.5", 7201), cancellationToken: Timeout), "resultCode", "errorCode", "message");
        AssertMatches("ErrorResponse.noHandler", await client.CallAsync("NoSuchRequest", "{}", cancellationToken: Timeout), "resultCode", "errorCode", "message");
    }

    [Fact]
    public async Task Unparsable_body_is_502()
    {
        await using var client = await ConnectAsync();
        var answer = await client.CallAsync("InstanceRequest", "{not json", cancellationToken: Timeout);
        Assert.Equal("ErrorResponse", answer.Type);
        Assert.Equal(502, answer.Body.GetProperty("errorCode").GetInt32());
    }

    [Fact]
    public async Task Null_headers_fail_like_the_server_502_with_metadata_headers_else_500()
    {
        await using var client = await ConnectAsync();
        var body = Register("10.0.0.5", 7201).Replace("\"headers\":{}", "\"headers\":null", StringComparison.Ordinal);
        var withHeaders = await client.CallAsync("InstanceRequest", body, new Dictionary<string, string> { ["app"] = "unknown" }, Timeout);
        Assert.Equal(("ErrorResponse", 502), (withHeaders.Type, withHeaders.Body.GetProperty("errorCode").GetInt32()));
        var without = await client.CallAsync("InstanceRequest", body, cancellationToken: Timeout);
        Assert.Equal(("ErrorResponse", 500), (without.Type, without.Body.GetProperty("errorCode").GetInt32()));
        Assert.Empty(Emulator.GetInstances("user-app"));
    }

    [Fact]
    public async Task Naming_has_no_namespace_default_an_empty_namespace_is_another_one()
    {
        await using var client = await ConnectAsync();
        await client.CallAsync("InstanceRequest", Register("10.0.0.5", 7201).Replace("\"namespace\":\"public\"", "\"namespace\":\"\"", StringComparison.Ordinal), cancellationToken: Timeout);
        Assert.Empty(Emulator.GetInstances("user-app"));

        var noNamespace = await client.CallAsync("InstanceRequest", Register("10.0.0.5", 7201).Replace("\"namespace\":\"public\",", "", StringComparison.Ordinal), cancellationToken: Timeout);
        Assert.Equal(("ErrorResponse", 500), (noNamespace.Type, noNamespace.Body.GetProperty("resultCode").GetInt32()));
    }

    [Fact]
    public async Task A_grpc_registration_is_seen_by_the_v1_list_and_by_query()
    {
        await using var client = await ConnectAsync();
        AssertMatches("InstanceResponse", await client.CallAsync("InstanceRequest", Register("10.0.0.5", 7201), cancellationToken: Timeout), "resultCode", "type", "success");

        Assert.Equal(["10.0.0.5:7201"], HostAddresses(await ListAsync(Query)));
        var query = await client.CallAsync("ServiceQueryRequest", "{\"headers\":{}," + Service + ",\"cluster\":\"\",\"healthyOnly\":false,\"udpPort\":0,\"module\":\"naming\"}", cancellationToken: Timeout);
        AssertMatches("QueryServiceResponse", query, "resultCode");
        var info = query.Body.GetProperty("serviceInfo");
        Assert.Equal("user-app", info.GetProperty("name").GetString());
        Assert.Equal("", info.GetProperty("checksum").GetString());
        Assert.Equal("10.0.0.5#7201#DEFAULT#DEFAULT_GROUP@@user-app", info.GetProperty("hosts")[0].GetProperty("instanceId").GetString());

        // One instance per (connection, service): a second register replaces the first.
        await client.CallAsync("InstanceRequest", Register("10.0.0.5", 7202), cancellationToken: Timeout);
        Assert.Equal(["10.0.0.5:7202"], HostAddresses(await ListAsync(Query)));

        // Deregister removes what the connection published, whatever ip/port it names.
        AssertMatches("InstanceResponse.deregister", await client.CallAsync("InstanceRequest", Register("1.2.3.4", 1, type: "deregisterInstance"), cancellationToken: Timeout), "type");
        Assert.Empty(HostAddresses(await ListAsync(Query)));
    }

    [Fact]
    public async Task Subscribers_are_pushed_http_registrations_and_grpc_deregistrations()
    {
        await using var subscriber = await ConnectAsync();
        var subscribed = await subscriber.CallAsync("SubscribeServiceRequest", Subscribe, cancellationToken: Timeout);
        AssertMatches("SubscribeServiceResponse", subscribed, "message");
        var first = await subscriber.WaitForAsync("NotifySubscriberRequest", Timeout);
        Assert.Matches(@"^\d+$", first.GetProperty("requestId").GetString());

        await RegisterAsync(Query + "&ip=10.0.0.6&port=7201&metadata=%7B%22version%22%3A%22V2%22%7D");
        var pushed = await subscriber.WaitForAsync("NotifySubscriberRequest", Timeout, body => body.GetProperty("serviceInfo").GetProperty("hosts").GetArrayLength() == 1);
        JsonShape.AssertSame(Fixtures.Json("grpc/NotifySubscriberRequest.json"), pushed);

        await using var publisher = await ConnectAsync();
        await publisher.CallAsync("InstanceRequest", Register("10.0.0.5", 7201), cancellationToken: Timeout);
        await subscriber.WaitForAsync("NotifySubscriberRequest", Timeout, body => body.GetProperty("serviceInfo").GetProperty("hosts").GetArrayLength() == 2);
        await publisher.CallAsync("InstanceRequest", Register("10.0.0.5", 7201, type: "deregisterInstance"), cancellationToken: Timeout);
        await subscriber.WaitForAsync("NotifySubscriberRequest", Timeout, body => body.GetProperty("serviceInfo").GetProperty("hosts").GetArrayLength() == 1);
    }

    [Fact]
    public async Task An_unanswered_push_is_retried_with_a_new_request_id_until_answered()
    {
        await using var subscriber = await ConnectAsync();
        subscriber.AutoAnswer = false;
        await subscriber.CallAsync("SubscribeServiceRequest", Subscribe, cancellationToken: Timeout);
        var first = await subscriber.WaitForAsync("NotifySubscriberRequest", Timeout);
        var again = await subscriber.WaitForAsync("NotifySubscriberRequest", Timeout);
        Assert.NotEqual(first.GetProperty("requestId").GetString(), again.GetProperty("requestId").GetString());
        await subscriber.AnswerAsync("NotifySubscriberResponse", again.GetProperty("requestId").GetString()!, Timeout);
    }

    [Fact]
    public async Task Closing_the_connection_deregisters_its_instances_at_once_and_pushes()
    {
        await using var subscriber = await ConnectAsync();
        await subscriber.CallAsync("SubscribeServiceRequest", Subscribe, cancellationToken: Timeout);
        var publisher = await ConnectAsync();
        await publisher.CallAsync("InstanceRequest", Register("10.0.0.5", 7201), cancellationToken: Timeout);
        await subscriber.WaitForAsync("NotifySubscriberRequest", Timeout, body => body.GetProperty("serviceInfo").GetProperty("hosts").GetArrayLength() == 1);

        await publisher.DisposeAsync();

        await subscriber.WaitForAsync("NotifySubscriberRequest", Timeout, body => body.GetProperty("serviceInfo").GetProperty("hosts").GetArrayLength() == 0);
        Assert.Empty(Emulator.GetInstances("user-app"));
    }

    /// <summary>
    /// core/InstanceOperatorClientImpl.java removeInstance: an HTTP deregistration removes the instance of the ip:port
    /// client only; the same ip:port published by a gRPC connection stays listed (a client moving from HTTP to gRPC
    /// registers over gRPC, then deregisters over HTTP).
    /// </summary>
    [Fact]
    public async Task An_http_deregistration_leaves_the_instance_a_grpc_connection_published()
    {
        await RegisterAsync(Query + "&ip=10.0.0.5&port=7201");
        await using var client = await ConnectAsync();
        await client.CallAsync("InstanceRequest", Register("10.0.0.5", 7201), cancellationToken: Timeout);

        await SendTextAsync(HttpMethod.Delete, "v1/ns/instance?" + Query + "&ip=10.0.0.5&port=7201");
        Assert.Equal(["10.0.0.5:7201"], HostAddresses(await ListAsync(Query)));

        // An instance no connection owns is still removed by HTTP.
        await RegisterAsync(Query + "&ip=10.0.0.6&port=7202");
        await SendTextAsync(HttpMethod.Delete, "v1/ns/instance?" + Query + "&ip=10.0.0.6&port=7202");
        Assert.Equal(["10.0.0.5:7201"], HostAddresses(await ListAsync(Query)));
    }

    [Fact]
    public async Task Grpc_instances_do_not_expire_by_beats()
    {
        await using var client = await ConnectAsync();
        await client.CallAsync("InstanceRequest", Register("10.0.0.5", 7201), cancellationToken: Timeout);
        Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(["10.0.0.5:7201"], HostAddresses(await ListAsync(Query)));
    }

    [Fact]
    public async Task Config_listen_query_publish_remove_and_change_notify()
    {
        await using var client = await ConnectAsync("config");
        var listen = "{\"headers\":{},\"listen\":true,\"configListenContexts\":[{\"group\":\"DEFAULT_GROUP\",\"md5\":\"\",\"dataId\":\"gray-rules.json\",\"tenant\":\"\"}],\"module\":\"config\"}";
        AssertMatches("ConfigChangeBatchListenResponse.noChange", await client.CallAsync("ConfigBatchListenRequest", listen, cancellationToken: Timeout));
        var queryBody = "{\"headers\":{},\"dataId\":\"gray-rules.json\",\"group\":\"DEFAULT_GROUP\",\"tenant\":\"\",\"notify\":false,\"module\":\"config\"}";
        AssertMatches("ConfigQueryResponse.notFound", await client.CallAsync("ConfigQueryRequest", queryBody, cancellationToken: Timeout), "resultCode", "errorCode", "message");

        Emulator.PublishConfig("gray-rules.json", "DEFAULT_GROUP", "{\"percent\":10}", type: "json");
        var notify = await client.WaitForAsync("ConfigChangeNotifyRequest", Timeout);
        JsonShape.AssertSame(Fixtures.Json("grpc/ConfigChangeNotifyRequest.json"), notify);

        var found = await client.CallAsync("ConfigQueryRequest", queryBody, cancellationToken: Timeout);
        AssertMatches("ConfigQueryResponse", found, "content", "md5", "contentType");

        var changed = await client.CallAsync("ConfigBatchListenRequest", listen, cancellationToken: Timeout);
        AssertMatches("ConfigChangeBatchListenResponse", changed);

        var publish = "{\"headers\":{},\"dataId\":\"gray-rules.json\",\"group\":\"DEFAULT_GROUP\",\"tenant\":\"\",\"content\":\"{\\\"percent\\\":20}\",\"additionMap\":{\"type\":\"json\"},\"module\":\"config\"}";
        AssertMatches("ConfigPublishResponse", await client.CallAsync("ConfigPublishRequest", publish, cancellationToken: Timeout));
        await client.WaitForAsync("ConfigChangeNotifyRequest", Timeout);
        Assert.Equal("{\"percent\":20}", await SendTextAsync(HttpMethod.Get, "v1/cs/configs?dataId=gray-rules.json&group=DEFAULT_GROUP"));

        var remove = "{\"headers\":{},\"dataId\":\"gray-rules.json\",\"group\":\"DEFAULT_GROUP\",\"tenant\":\"\",\"module\":\"config\"}";
        AssertMatches("ConfigRemoveResponse", await client.CallAsync("ConfigRemoveRequest", remove, cancellationToken: Timeout));
        Assert.Null(Emulator.GetConfig("gray-rules.json", "DEFAULT_GROUP"));
    }

    [Fact]
    public async Task Param_check_and_handler_validations_match_the_fixtures()
    {
        await using var client = await ConnectAsync();
        var badName = Register("10.0.0.5", 7201).Replace("\"user-app\"", "\"user@@app\"", StringComparison.Ordinal);
        AssertMatches("InstanceResponse.paramCheckFailed", await client.CallAsync("InstanceRequest", badName, cancellationToken: Timeout), "resultCode", "errorCode", "message");
        AssertMatches("ErrorResponse.handlerException", await client.CallAsync("InstanceRequest", Register("10.0.0.5", 7201, cluster: "my_cluster"), cancellationToken: Timeout), "resultCode", "errorCode", "message");

        await using var configClient = await ConnectAsync("config");
        var refused = await configClient.CallAsync("InstanceRequest", Register("10.0.0.5", 7201), cancellationToken: Timeout);
        AssertMatches("ErrorResponse.clientDisconnect", refused, "resultCode", "errorCode");
        Assert.Equal(
            Fixtures.Json("grpc/ErrorResponse.clientDisconnect.json").GetProperty("message").GetString()!.Replace("1727000000000_10.0.0.5_53124", configClient.ConnectionId, StringComparison.Ordinal),
            refused.Body.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Batch_register_replaces_the_connections_set()
    {
        await using var client = await ConnectAsync();
        var batch = Fixtures.Text("grpc/BatchInstanceRequest.json");
        AssertMatches("BatchInstanceResponse", await client.CallAsync("BatchInstanceRequest", batch, cancellationToken: Timeout), "type");
        Assert.Equal(["10.0.0.5:7201", "10.0.0.5:7202"], HostAddresses(await ListAsync(Query)));
    }
}
