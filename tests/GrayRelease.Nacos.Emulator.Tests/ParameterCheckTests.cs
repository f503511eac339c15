using System.Net;
using System.Text.Json;
using GrayRelease.Nacos.Emulator.Tests.Support;

namespace GrayRelease.Nacos.Emulator.Tests;

/// <summary>
/// Values a real server (2.2+, parameter check on by default) refuses with 400, on v1 and v2 alike. Two layers, as in
/// the server: core/.../paramcheck/ParamCheckerFilter.java (plain-text message and a line break, before any controller,
/// so v2 answers it the same way) and the instance checks behind the controllers (v1 plain text, v2 envelope).
/// </summary>
public sealed class ParameterCheckTests : EmulatorTestBase
{
    private const string Instance = "&ip=10.0.0.5&port=7201";

    protected override void Configure(NacosEmulatorOptions options) => options.AuthEnabled = false;

    private static string Path(bool v2, string service = "order-app", string group = "DEFAULT_GROUP") =>
        (v2 ? "v2/ns/instance?serviceName=" : "v1/ns/instance?serviceName=" + Uri.EscapeDataString(group) + "%40%40")
        + Uri.EscapeDataString(service) + "&groupName=" + Uri.EscapeDataString(group);

    private async Task<(HttpStatusCode Status, string Body)> CallAsync(HttpMethod method, string uri)
    {
        using var response = await SendAsync(method, uri);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(Timeout));
    }

    public static TheoryData<bool, string, string, string> FilterCases()
    {
        var data = new TheoryData<bool, string, string, string>();
        foreach (var v2 in new[] { false, true })
        {
            data.Add(v2, "order app", "DEFAULT_GROUP", "Param 'serviceName' is illegal, illegal characters should not appear in the param.");
            data.Add(v2, "@order-app", "DEFAULT_GROUP", "Param 'serviceName' is illegal, illegal characters should not appear in the param.");
            data.Add(v2, "订单服务", "DEFAULT_GROUP", "Param 'serviceName' is illegal, illegal characters should not appear in the param.");
            data.Add(v2, new string('s', 513), "DEFAULT_GROUP", "Param 'serviceName' is illegal, the param length should not exceed 512.");
            data.Add(v2, "order-app", "GRAY GROUP", "Param 'group' is illegal, illegal characters should not appear in the param.");
            data.Add(v2, "order-app", "灰度", "Param 'group' is illegal, illegal characters should not appear in the param.");
            data.Add(v2, "order-app", new string('g', 129), "Param 'group' is illegal, the param length should not exceed 128.");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(FilterCases))]
    public async Task Illegal_names_are_refused_with_the_servers_plain_text_400(bool v2, string service, string group, string message)
    {
        var (status, body) = await CallAsync(HttpMethod.Post, Path(v2, service, group) + Instance);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(message + "\n", body);
        Assert.Empty(Emulator.GetInstances(service, group));
    }

    [Theory]
    [InlineData(false, "&clusterName=blue%20green", "Param 'cluster' is illegal, illegal characters should not appear in the param.")]
    [InlineData(true, "&clusterName=blue%20green", "Param 'cluster' is illegal, illegal characters should not appear in the param.")]
    [InlineData(false, "&namespaceId=dev%20space", "Param 'namespaceId/tenant' is illegal, illegal characters should not appear in the param.")]
    [InlineData(true, "&namespaceId=dev%20space", "Param 'namespaceId/tenant' is illegal, illegal characters should not appear in the param.")]
    [InlineData(false, "&namespaceId=n2345678901234567890123456789012345678901234567890123456789012345", "Param 'namespaceId/tenant' is illegal, the param length should not exceed 64.")]
    [InlineData(true, "&namespaceId=n2345678901234567890123456789012345678901234567890123456789012345", "Param 'namespaceId/tenant' is illegal, the param length should not exceed 64.")]
    public async Task Illegal_cluster_and_namespace_values_are_refused_with_the_servers_plain_text_400(bool v2, string extra, string message)
    {
        var (status, body) = await CallAsync(HttpMethod.Post, Path(v2) + Instance + extra);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(message + "\n", body);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Metadata_longer_than_1024_characters_in_total_is_refused(bool v2)
    {
        var metadata = JsonSerializer.Serialize(new Dictionary<string, string> { ["version"] = new string('v', 1018) });
        var fits = JsonSerializer.Serialize(new Dictionary<string, string> { ["version"] = new string('v', 1017) });

        var (status, body) = await CallAsync(HttpMethod.Post, Path(v2) + Instance + "&metadata=" + Uri.EscapeDataString(metadata));
        var (fitsStatus, _) = await CallAsync(HttpMethod.Post, Path(v2) + Instance + "&metadata=" + Uri.EscapeDataString(fits));

        Assert.Equal((HttpStatusCode.BadRequest, "Param 'Metadata' is illegal, the param length should not exceed 1024.\n"), (status, body));
        Assert.Equal(HttpStatusCode.OK, fitsStatus);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Beats_and_lists_are_checked_too(bool v2)
    {
        var prefix = v2 ? "v2/ns/instance" : "v1/ns/instance";

        var beat = await CallAsync(HttpMethod.Put, prefix + "/beat?serviceName=" + Uri.EscapeDataString("订单") + Instance);
        var list = await CallAsync(HttpMethod.Get, prefix + "/list?serviceName=order-app&groupName=" + Uri.EscapeDataString("a b"));

        Assert.Equal((HttpStatusCode.BadRequest, "Param 'serviceName' is illegal, illegal characters should not appear in the param.\n"), beat);
        Assert.Equal((HttpStatusCode.BadRequest, "Param 'group' is illegal, illegal characters should not appear in the param.\n"), list);
    }

    public static TheoryData<string, string> InstanceCases() => new()
    {
        // api/.../naming/utils/NamingUtils.java checkInstanceIsLegal: the filter lets '_' through, this check does not.
        { "&clusterName=blue_green", "Instance 'clusterName' should be characters with only 0-9a-zA-Z-. (current: blue_green)" },
        {
            "&metadata=" + Uri.EscapeDataString("{\"preserved.heart.beat.interval\":\"20000\"}"),
            "Instance 'heart beat interval' must less than 'heart beat timeout' and 'ip delete timeout'."
        },
        {
            "&metadata=" + Uri.EscapeDataString("{\"preserved.heart.beat.interval\":\"3000\",\"preserved.heart.beat.timeout\":\"2000\"}"),
            "Instance 'heart beat interval' must less than 'heart beat timeout' and 'ip delete timeout'."
        },
    };

    [Theory]
    [MemberData(nameof(InstanceCases))]
    public async Task Illegal_instances_are_refused_with_400_as_text_on_v1(string extra, string message)
    {
        var (status, body) = await CallAsync(HttpMethod.Post, Path(false) + Instance + extra);

        Assert.Equal((HttpStatusCode.BadRequest, message), (status, body));
        Assert.Empty(Emulator.GetInstances("order-app"));
    }

    [Theory]
    [MemberData(nameof(InstanceCases))]
    public async Task Illegal_instances_are_refused_with_400_in_an_envelope_on_v2(string extra, string message)
    {
        var (status, body) = await CallAsync(HttpMethod.Post, Path(true) + Instance + extra);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var envelope = JsonDocument.Parse(body).RootElement;
        Assert.Equal(21004, envelope.GetProperty("code").GetInt32());
        Assert.Equal("instance error", envelope.GetProperty("message").GetString());
        Assert.Equal(message, envelope.GetProperty("data").GetString());
    }

    [Fact]
    public async Task A_weight_above_10000_is_refused_on_v1_and_v2()
    {
        var v1 = await CallAsync(HttpMethod.Post, Path(false) + Instance + "&weight=10000.5");
        var (status, body) = await CallAsync(HttpMethod.Post, Path(true) + Instance + "&weight=10000.5");

        Assert.Equal((HttpStatusCode.BadRequest, "instance format invalid: The weights range from 0.0 to 10000.0"), v1);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var envelope = JsonDocument.Parse(body).RootElement;
        Assert.Equal(21001, envelope.GetProperty("code").GetInt32());
        Assert.Equal("weight error", envelope.GetProperty("message").GetString());
        Assert.Equal("instance format invalid: The weights range from 0.0 to 10000.0", envelope.GetProperty("data").GetString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_service_is_ephemeral_or_persistent_not_both(bool v2)
    {
        await SendTextAsync(HttpMethod.Post, Path(v2) + Instance + "&ephemeral=true");
        await SendTextAsync(HttpMethod.Post, Path(v2, "stock-app") + Instance + "&ephemeral=false");

        var persistent = await CallAsync(HttpMethod.Post, Path(v2) + "&ip=10.0.0.6&port=7201&ephemeral=false");
        var ephemeral = await CallAsync(HttpMethod.Post, Path(v2, "stock-app") + "&ip=10.0.0.6&port=7201&ephemeral=true");

        const string Persistent = "errCode: 400, errMsg: Current service DEFAULT_GROUP@@order-app is ephemeral service, can't register persistent instance. ";
        const string Ephemeral = "errCode: 400, errMsg: Current service DEFAULT_GROUP@@stock-app is persistent service, can't register ephemeral instance. ";
        Assert.Equal(HttpStatusCode.BadRequest, persistent.Status);
        Assert.Equal(HttpStatusCode.BadRequest, ephemeral.Status);
        if (v2)
        {
            // core/.../exception/NacosApiExceptionHandler.java handleNacosRuntimeException: SERVER_ERROR envelope.
            var envelope = JsonDocument.Parse(persistent.Body).RootElement;
            Assert.Equal((30000, "server error", Persistent), (envelope.GetProperty("code").GetInt32(), envelope.GetProperty("message").GetString(), envelope.GetProperty("data").GetString()));
            Assert.Equal(Ephemeral, JsonDocument.Parse(ephemeral.Body).RootElement.GetProperty("data").GetString());
        }
        else
        {
            Assert.Equal(Persistent, persistent.Body);
            Assert.Equal(Ephemeral, ephemeral.Body);
        }

        Assert.Single(Emulator.GetInstances("order-app"));
        Assert.Single(Emulator.GetInstances("stock-app"));
    }

    [Fact]
    public async Task Legal_unusual_names_are_accepted()
    {
        // The server's patterns: a service may hold dots, colons and single '@' after the first character; groups
        // letters, digits and - _ : . ; clusters letters, digits and -.
        await SendTextAsync(HttpMethod.Post, Path(false, "order.app:v1@blue", "GRAY_GROUP-1:a.b") + Instance + "&clusterName=blue-2&namespaceId=dev_1-x");

        Assert.Single(Emulator.GetInstances("order.app:v1@blue", "GRAY_GROUP-1:a.b", "dev_1-x"));
    }
}
