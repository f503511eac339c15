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
}
