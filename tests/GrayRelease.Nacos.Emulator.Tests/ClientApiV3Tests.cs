using System.Net;
using System.Text.Json;
using GrayRelease.Nacos.Emulator.Tests.Support;

namespace GrayRelease.Nacos.Emulator.Tests;

/// <summary>The v3 client HTTP API (3.x lines), answers compared to fixtures/v3-*.json.</summary>
public sealed class ClientApiV3Tests : EmulatorTestBase
{
    private const string Instance = "v3/client/ns/instance?serviceName=user-app&groupName=DEFAULT_GROUP&ip=10.0.0.5&port=7201";

    protected override void Configure(NacosEmulatorOptions options) => options.ServerLine = NacosServerLine.Nacos32;

    private async Task<JsonElement> JsonAsync(HttpMethod method, string uri, HttpStatusCode expected = HttpStatusCode.OK) =>
        JsonDocument.Parse(await SendTextAsync(method, uri, expected)).RootElement.Clone();

    private static void AssertSameAs(string fixture, JsonElement actual)
    {
        var expected = Fixtures.Json(fixture);
        JsonShape.AssertSame(expected, actual);
        Assert.Equal(expected.GetProperty("code").GetInt32(), actual.GetProperty("code").GetInt32());
        Assert.Equal(expected.GetProperty("message").GetString(), actual.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Register_list_beat_and_deregister()
    {
        AssertSameAs("v3-ok.json", await JsonAsync(HttpMethod.Post, Instance + "&metadata=%7B%22version%22%3A%22V1%22%7D"));
        await SendTextAsync(HttpMethod.Post, "v3/client/ns/instance?serviceName=user-app&ip=10.0.0.6&port=7201&clusterName=other");

        // No clusterName lists cluster DEFAULT only (InstanceListForm.java).
        var list = await JsonAsync(HttpMethod.Get, "v3/client/ns/instance/list?serviceName=user-app&groupName=DEFAULT_GROUP");
        AssertSameAs("v3-instance-list.json", list);
        Assert.Equal("10.0.0.5", Assert.Single(list.GetProperty("data").EnumerateArray()).GetProperty("ip").GetString());

        AssertSameAs("v3-ok.json", await JsonAsync(HttpMethod.Post, Instance + "&heartBeat=true"));
        AssertSameAs("v3-instance-not-found.json", await JsonAsync(HttpMethod.Post, "v3/client/ns/instance?serviceName=user-app&ip=9.9.9.9&port=1&heartBeat=true"));

        AssertSameAs("v3-ok.json", await JsonAsync(HttpMethod.Delete, Instance));
        Assert.Equal("10.0.0.6", Assert.Single(Emulator.GetInstances("user-app")).Ip);
    }

    [Fact]
    public async Task A_missing_parameter_is_400_parameter_missing()
    {
        var answer = await JsonAsync(HttpMethod.Post, "v3/client/ns/instance?ip=10.0.0.5&port=7201", HttpStatusCode.BadRequest);
        var expected = Fixtures.Json("v3-param-missing.json");
        Assert.Equal(expected.GetRawText().Replace(" ", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal).Replace("\r", "", StringComparison.Ordinal),
            answer.GetRawText().Replace(" ", "", StringComparison.Ordinal));
    }

    /// <summary>
    /// The server's param-check filter runs before InstanceOpenApiController (NamingDefaultHttpParamExtractor /
    /// NamingInstanceListHttpParamExtractor): plain-text 400, as on v1 and v2.
    /// </summary>
    [Theory]
    [InlineData("POST", "v3/client/ns/instance?serviceName=order%20app&ip=10.0.0.5&port=7201", "Param 'serviceName' is illegal, illegal characters should not appear in the param.")]
    [InlineData("DELETE", "v3/client/ns/instance?serviceName=order-app&ip=10.0.0.5&port=7201&clusterName=blue%20green", "Param 'cluster' is illegal, illegal characters should not appear in the param.")]
    [InlineData("GET", "v3/client/ns/instance/list?serviceName=order-app&groupName=a%20b", "Param 'group' is illegal, illegal characters should not appear in the param.")]
    public async Task Illegal_names_are_refused_by_the_param_check_with_plain_text_400(string method, string uri, string message)
    {
        Assert.Equal(message + "\n", await SendTextAsync(new HttpMethod(method), uri, HttpStatusCode.BadRequest));
        Assert.Empty(Emulator.GetInstances("order app"));
    }

    /// <summary>InstanceOperatorClientImpl.registerInstance runs NamingUtils.checkInstanceIsLegal: NacosApiException 400 / 21004 through NacosApiExceptionHandler.</summary>
    [Fact]
    public async Task An_illegal_instance_is_400_instance_error()
    {
        var answer = await JsonAsync(HttpMethod.Post, Instance + "&clusterName=blue_green", HttpStatusCode.BadRequest);

        Assert.Equal(21004, answer.GetProperty("code").GetInt32());
        Assert.Equal("instance error", answer.GetProperty("message").GetString());
        Assert.Equal("Instance 'clusterName' should be characters with only 0-9a-zA-Z-. (current: blue_green)", answer.GetProperty("data").GetString());
        Assert.Empty(Emulator.GetInstances("user-app"));
    }

    [Fact]
    public async Task Config_found_not_found_and_missing_group()
    {
        Emulator.PublishConfig("gray-rules.json", "DEFAULT_GROUP", "{\"percent\":10}", type: "json");
        var found = await JsonAsync(HttpMethod.Get, "v3/client/cs/config?dataId=gray-rules.json&groupName=DEFAULT_GROUP");
        AssertSameAs("v3-config.json", found);
        Assert.Equal("ff0f769dbe1dfcaae693d649b2fa11d4", found.GetProperty("data").GetProperty("md5").GetString());

        AssertSameAs("v3-config-not-found.json", await JsonAsync(HttpMethod.Get, "v3/client/cs/config?dataId=missing.json&groupName=DEFAULT_GROUP"));
        Assert.Equal(
            "caused: Required parameter 'groupName' type String is not present;",
            await SendTextAsync(HttpMethod.Get, "v3/client/cs/config?dataId=gray-rules.json&group=DEFAULT_GROUP", HttpStatusCode.BadRequest));
    }
}
