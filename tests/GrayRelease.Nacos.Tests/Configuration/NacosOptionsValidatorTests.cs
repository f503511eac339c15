using GrayRelease.Nacos.Configuration;

namespace GrayRelease.Nacos.Tests.Configuration;

public class NacosOptionsValidatorTests
{
    [Fact]
    public void Valid_options_pass()
    {
        var options = new NacosOptions { ServerAddresses = ["http://127.0.0.1:8848", "https://nacos.example:8848/nacos"] };

        Assert.True(new NacosOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void A_comma_separated_server_list_in_one_entry_is_accepted()
    {
        var options = new NacosOptions { ServerAddresses = ["http://10.0.0.2:8848, http://10.0.0.3:8848"] };

        Assert.True(new NacosOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(["http://10.0.0.2:8848", "http://10.0.0.3:8848"], options.GetServerAddresses());
    }

    [Fact]
    public void Missing_server_addresses_name_the_key()
    {
        var result = new NacosOptionsValidator().Validate(null, new NacosOptions());

        Assert.True(result.Failed);
        Assert.Contains("nacos:ServerAddresses must contain at least one absolute http(s) address; got ''", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_bad_key_is_named_with_its_value()
    {
        var options = new NacosOptions
        {
            ServerAddresses = ["127.0.0.1:8848"],
            Port = 70000,
            Ip = "not-an-ip",
            Weight = -1,
            DefaultTimeOut = 0,
            UserName = "nacos",
            Listeners = [new NacosListenerOptions { DataId = "bad id", Type = "xml" }],
        };

        var message = new NacosOptionsValidator().Validate(null, options).FailureMessage;

        Assert.Contains("nacos:ServerAddresses:0", message, StringComparison.Ordinal);
        Assert.Contains("'127.0.0.1:8848'", message, StringComparison.Ordinal);
        Assert.Contains("nacos:Port", message, StringComparison.Ordinal);
        Assert.Contains("nacos:Ip", message, StringComparison.Ordinal);
        Assert.Contains("nacos:Weight", message, StringComparison.Ordinal);
        Assert.Contains("nacos:DefaultTimeOut", message, StringComparison.Ordinal);
        Assert.Contains("nacos:Password", message, StringComparison.Ordinal);
        Assert.Contains("nacos:Listeners:0:DataId", message, StringComparison.Ordinal);
        Assert.Contains("nacos:Listeners:0:Type", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://10.0.0.2:8848", "http://10.0.0.2:8848/nacos/")]
    [InlineData("http://10.0.0.2:8848/", "http://10.0.0.2:8848/nacos/")]
    [InlineData("https://nacos.example/nacos", "https://nacos.example/nacos/")]
    [InlineData("http://10.0.0.2:8848/custom/", "http://10.0.0.2:8848/custom/")]
    public void Server_addresses_get_the_nacos_context_path(string address, string expected)
    {
        Assert.True(GrayRelease.Nacos.Http.NacosServerAddress.TryParse(address, out var uri));
        Assert.Equal(expected, uri.AbsoluteUri);
    }

    private static NacosOptions Valid() => new() { ServerAddresses = ["http://127.0.0.1:8848"] };

    public static TheoryData<string, Action<NacosOptions>, string> ServerRejectedValues() => new()
    {
        // common/.../paramcheck/ParamCheckRule.java serviceNamePatternString, maxServiceNameLength.
        { "nacos:ServiceName", o => o.ServiceName = "order app", "'order app'" },
        { "nacos:ServiceName", o => o.ServiceName = "@order-app", "'@order-app'" },
        { "nacos:ServiceName", o => o.ServiceName = "GROUP@@order-app", "'GROUP@@order-app'" },
        { "nacos:ServiceName", o => o.ServiceName = "订单服务", "'订单服务'" },
        { "nacos:ServiceName", o => o.ServiceName = "café", "'café'" },
        { "nacos:ServiceName", o => o.ServiceName = new string('s', 513), "513" },

        // groupPatternString, maxGroupLength.
        { "nacos:GroupName", o => o.GroupName = "GRAY GROUP", "'GRAY GROUP'" },
        { "nacos:GroupName", o => o.GroupName = "灰度", "'灰度'" },
        { "nacos:GroupName", o => o.GroupName = new string('g', 129), "129" },

        // api/.../naming/utils/NamingUtils.java checkInstanceIsLegal (CLUSTER_NAME_PATTERN_STRING), maxClusterLength.
        { "nacos:ClusterName", o => o.ClusterName = "blue_green", "'blue_green'" },
        { "nacos:ClusterName", o => o.ClusterName = "blue green", "'blue green'" },
        { "nacos:ClusterName", o => o.ClusterName = new string('c', 65), "65" },

        // namespaceIdPatternString, maxNamespaceIdLength.
        { "nacos:Namespace", o => o.Namespace = "dev space", "'dev space'" },
        { "nacos:Namespace", o => o.Namespace = new string('n', 65), "65" },

        // naming/.../controllers/v2/InstanceControllerV2.java checkWeight (MAX_WEIGHT_VALUE).
        { "nacos:Weight", o => o.Weight = 10000.5, "'10000.5'" },

        // maxMetadataLength: keys + values, 1024 characters in total.
        { "nacos:Metadata", o => o.Metadata["version"] = new string('v', 1018), "1025" },

        // checkInstanceIsLegal: the interval must not exceed the heartbeat timeout nor the delete timeout.
        { "nacos:Metadata:preserved.heart.beat.interval", o => o.Metadata["preserved.heart.beat.interval"] = "20000", "'20000'" },
        {
            "nacos:Metadata:preserved.heart.beat.interval",
            o => { o.Metadata["preserved.heart.beat.interval"] = "3000"; o.Metadata["preserved.heart.beat.timeout"] = "2000"; },
            "'2000'"
        },
        {
            "nacos:Metadata:preserved.heart.beat.interval",
            o => { o.Metadata["preserved.heart.beat.interval"] = "3000"; o.Metadata["preserved.ip.delete.timeout"] = "2500"; },
            "'2500'"
        },
    };

    [Theory]
    [MemberData(nameof(ServerRejectedValues))]
    public void Values_the_server_rejects_fail_at_start_up_naming_the_key_and_value(string key, Action<NacosOptions> change, string value)
    {
        var options = Valid();
        change(options);

        var result = new NacosOptionsValidator().Validate(null, options);

        Assert.True(result.Failed, key + " " + value + " passed");
        Assert.Contains(key, result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains(value, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Unusual_values_the_server_accepts_pass()
    {
        var options = Valid();
        options.ServiceName = "order.app:v1@blue";
        options.GroupName = "GRAY_GROUP-1:a.b";
        options.ClusterName = "blue-2";
        options.Namespace = "dev_1-x";
        options.Weight = 10000;
        options.Metadata["version"] = new string('v', 1017);

        Assert.True(new NacosOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Heartbeat_metadata_in_the_servers_order_passes()
    {
        var options = Valid();
        options.Metadata["preserved.heart.beat.interval"] = "500";
        options.Metadata["preserved.heart.beat.timeout"] = "3000";
        options.Metadata["preserved.ip.delete.timeout"] = "6000";

        Assert.True(new NacosOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Without_a_service_name_the_application_name_is_checked()
    {
        var environment = new Moq.Mock<Microsoft.Extensions.Hosting.IHostEnvironment>();
        environment.SetupGet(e => e.ApplicationName).Returns("Order App");

        var result = new NacosOptionsValidator(environment.Object).Validate(null, Valid());

        Assert.True(result.Failed);
        Assert.Contains("nacos:ServiceName", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("'Order App'", result.FailureMessage, StringComparison.Ordinal);
        Assert.True(new NacosOptionsValidator(environment.Object).Validate(null, new NacosOptions { ServerAddresses = ["http://127.0.0.1:8848"], ServiceName = "order-app" }).Succeeded);
    }
}
