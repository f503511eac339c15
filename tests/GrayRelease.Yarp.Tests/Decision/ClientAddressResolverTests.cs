using System.Net;
using static GrayRelease.Yarp.Tests.Rules.RuleTestContext;

namespace GrayRelease.Yarp.Tests.Decision;

public class ClientAddressResolverTests
{
    private static readonly IPRangeSet Proxies = IPRangeSet.Create(["10.0.0.1", "10.9.0.0/16", "fd00::/8"]);

    [Fact]
    public void Without_trusted_proxies_the_connection_address_is_the_client()
    {
        var context = Request("10.0.0.1", ("X-Forwarded-For", "198.51.100.7"), ("X-Real-IP", "198.51.100.8"));

        Assert.Equal(IPAddress.Parse("10.0.0.1"), ClientAddressResolver.Resolve(context, IPRangeSet.Empty));
    }

    [Fact]
    public void Forwarded_for_from_an_untrusted_peer_is_ignored()
    {
        var context = Request("203.0.113.66", ("X-Forwarded-For", "198.51.100.7"), ("X-Real-IP", "198.51.100.8"));

        Assert.Equal(IPAddress.Parse("203.0.113.66"), ClientAddressResolver.Resolve(context, Proxies));
    }

    [Fact]
    public void Forwarded_for_from_a_trusted_peer_names_the_client()
    {
        var context = Request("10.0.0.1", ("X-Forwarded-For", "198.51.100.7"));

        Assert.Equal(IPAddress.Parse("198.51.100.7"), ClientAddressResolver.Resolve(context, Proxies));
    }

    [Fact]
    public void Chain_is_walked_from_the_right_and_stops_at_the_first_untrusted_hop()
    {
        // The client forged the first entry; 203.0.113.5 is the address the first trusted proxy actually saw.
        var context = Request("10.0.0.1", ("X-Forwarded-For", "1.2.3.4, 203.0.113.5, 10.9.3.3"));

        Assert.Equal(IPAddress.Parse("203.0.113.5"), ClientAddressResolver.Resolve(context, Proxies));
    }

    [Fact]
    public void Several_forwarded_for_headers_are_one_list()
    {
        var context = Request("10.0.0.1", ("X-Forwarded-For", "198.51.100.7"), ("X-Forwarded-For", "10.9.0.2"));

        Assert.Equal(IPAddress.Parse("198.51.100.7"), ClientAddressResolver.Resolve(context, Proxies));
    }

    [Fact]
    public void IPv6_and_ports_in_forwarded_for_are_understood()
    {
        Assert.Equal(IPAddress.Parse("2001:db8::7"), ClientAddressResolver.Resolve(Request("fd00::1", ("X-Forwarded-For", "[2001:db8::7]:5123")), Proxies));
        Assert.Equal(IPAddress.Parse("198.51.100.7"), ClientAddressResolver.Resolve(Request("::ffff:10.0.0.1", ("X-Forwarded-For", "198.51.100.7:443")), Proxies));
    }

    [Fact]
    public void Garbage_in_forwarded_for_stops_at_the_last_trusted_address()
    {
        var context = Request("10.0.0.1", ("X-Forwarded-For", "198.51.100.7, not-an-ip"));

        Assert.Equal(IPAddress.Parse("10.0.0.1"), ClientAddressResolver.Resolve(context, Proxies));
    }

    [Fact]
    public void Real_ip_from_a_trusted_peer_is_used_when_configured_after_forwarded_for_and_there_is_none()
    {
        Assert.True(ClientAddressResolver.TryParseHeaders("X-Forwarded-For, X-Real-IP", out var order, out _));
        Assert.Equal(IPAddress.Parse("198.51.100.8"), ClientAddressResolver.Resolve(Request("10.0.0.1", ("X-Real-IP", "198.51.100.8")), Proxies, order));
        Assert.Equal(IPAddress.Parse("198.51.100.7"), ClientAddressResolver.Resolve(Request("10.0.0.1", ("X-Forwarded-For", "198.51.100.7"), ("X-Real-IP", "198.51.100.8")), Proxies, order));
        Assert.Equal(IPAddress.Parse("203.0.113.66"), ClientAddressResolver.Resolve(Request("203.0.113.66", ("X-Real-IP", "198.51.100.8")), Proxies, order));
    }

    [Fact]
    public void By_default_real_ip_is_not_read_because_a_forwarded_for_appending_proxy_passes_it_through()
    {
        Assert.Equal(IPAddress.Parse("10.0.0.1"), ClientAddressResolver.Resolve(Request("10.0.0.1", ("X-Real-IP", "198.51.100.8")), Proxies));
    }

    [Fact]
    public void Behind_a_proxy_that_sets_only_real_ip_the_client_forwarded_for_is_ignored()
    {
        Assert.True(ClientAddressResolver.TryParseHeaders("X-Real-IP", out var order, out _));

        var context = Request("10.0.0.1", ("X-Forwarded-For", "198.51.100.7"), ("X-Real-IP", "203.0.113.9"));

        Assert.Equal(IPAddress.Parse("203.0.113.9"), ClientAddressResolver.Resolve(context, Proxies, order));
    }

    [Theory]
    [InlineData("X-Forwarded-For", true)]
    [InlineData("x-real-ip , X-Forwarded-For", true)]
    [InlineData("", true)]
    [InlineData("Forwarded", false)]
    [InlineData("X-Real-IP, X-Real-IP", false)]
    public void Header_order_accepts_only_known_headers_once(string text, bool valid)
    {
        Assert.Equal(valid, ClientAddressResolver.TryParseHeaders(text, out _, out var error));
        Assert.Equal(valid, error is null);
    }

    [Fact]
    public void Spoofed_forwarded_for_cannot_put_a_client_on_the_gray_ip_list()
    {
        var options = Enabled(o => (o.IpList, o.TrustedProxies) = (["198.51.100.7"], ["10.0.0.1"]));

        Assert.Equal(GrayStatus.Prod, Decide(options, Request("203.0.113.66", ("X-Forwarded-For", "198.51.100.7"))).Status);
        Assert.Equal(GrayStatus.Gray, Decide(options, Request("10.0.0.1", ("X-Forwarded-For", "198.51.100.7"))).Status);
    }
}
