using System.Net;
using GrayRelease.Nacos.Registration;

namespace GrayRelease.Nacos.Tests.Registration;

public class HostAddressResolverTests
{
    private static readonly IPAddress[] Machine = [IPAddress.Loopback, IPAddress.Parse("172.17.0.5"), IPAddress.Parse("10.1.2.3")];

    [Fact]
    public void A_specific_bound_address_is_registered_as_is()
    {
        var result = HostAddressResolver.Resolve(["http://127.0.0.1:5123"], new NacosOptions(), () => Machine);

        Assert.Equal(("127.0.0.1", 5123), result);
    }

    [Theory]
    [InlineData("http://0.0.0.0:80")]
    [InlineData("http://[::]:80")]
    [InlineData("http://+:80")]
    [InlineData("http://*:80")]
    public void A_wildcard_binding_becomes_a_machine_address_in_the_preferred_network(string bound)
    {
        var result = HostAddressResolver.Resolve([bound], new NacosOptions { PreferredNetworks = "10.1." }, () => Machine);

        Assert.Equal(("10.1.2.3", 80), result);
    }

    [Fact]
    public void Without_preferred_networks_the_first_non_loopback_ipv4_wins()
    {
        var result = HostAddressResolver.Resolve(["http://0.0.0.0:80"], new NacosOptions(), () => Machine);

        Assert.Equal(("172.17.0.5", 80), result);
    }

    [Fact]
    public void Link_local_addresses_are_passed_over()
    {
        var result = HostAddressResolver.Resolve(["http://0.0.0.0:80"], new NacosOptions(), () => [IPAddress.Loopback, IPAddress.Parse("169.254.10.1"), IPAddress.Parse("10.1.2.3")]);

        Assert.Equal(("10.1.2.3", 80), result);
    }

    [Fact]
    public void Loopback_only_when_nothing_else_exists()
    {
        var result = HostAddressResolver.Resolve(["http://[::]:80"], new NacosOptions(), () => [IPAddress.Loopback, IPAddress.IPv6Loopback]);

        Assert.Equal(("127.0.0.1", 80), result);
    }

    [Fact]
    public void Localhost_stays_loopback_because_nothing_else_can_reach_it()
    {
        var result = HostAddressResolver.Resolve(["http://localhost:5000"], new NacosOptions(), () => Machine);

        Assert.Equal(("127.0.0.1", 5000), result);
    }

    [Fact]
    public void Ip_and_port_options_override_the_bound_address()
    {
        var result = HostAddressResolver.Resolve(["http://0.0.0.0:80"], new NacosOptions { Ip = "192.168.9.9", Port = 8080 }, () => Machine);

        Assert.Equal(("192.168.9.9", 8080), result);
    }

    [Fact]
    public void Secure_prefers_the_https_binding()
    {
        var result = HostAddressResolver.Resolve(["http://127.0.0.1:80", "https://127.0.0.1:443"], new NacosOptions { Secure = true }, () => Machine);

        Assert.Equal(("127.0.0.1", 443), result);
    }

    [Fact]
    public void Nothing_bound_and_no_port_gives_nothing()
    {
        Assert.Null(HostAddressResolver.Resolve([], new NacosOptions(), () => Machine));
    }
}
