using System.Net;

namespace GrayRelease.Yarp.Tests.Configuration;

public class IPRangeTests
{
    [Theory]
    [InlineData("10.0.0.0/8", "10.0.0.0", true)]
    [InlineData("10.0.0.0/8", "10.255.255.255", true)]
    [InlineData("10.0.0.0/8", "9.255.255.255", false)]
    [InlineData("10.0.0.0/8", "11.0.0.0", false)]
    [InlineData("192.168.1.7/32", "192.168.1.7", true)]
    [InlineData("192.168.1.7/32", "192.168.1.8", false)]
    [InlineData("192.168.1.7", "192.168.1.7", true)]
    [InlineData("192.168.1.7", "192.168.1.6", false)]
    [InlineData("0.0.0.0/0", "0.0.0.0", true)]
    [InlineData("0.0.0.0/0", "255.255.255.255", true)]
    [InlineData("0.0.0.0/0", "::1", false)]
    [InlineData("2001:db8::/32", "2001:db8::", true)]
    [InlineData("2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true)]
    [InlineData("2001:db8::/32", "2001:db9::", false)]
    [InlineData("2001:db8::/32", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false)]
    [InlineData("2001:db8::1/128", "2001:db8::1", true)]
    [InlineData("2001:db8::1/128", "2001:db8::2", false)]
    [InlineData("::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true)]
    [InlineData("::/0", "10.0.0.1", false)]
    [InlineData(" 10.1.0.0/16 ", "10.1.200.3", true)]
    public void Range_contains_exactly_its_addresses(string range, string address, bool expected)
    {
        var set = IPRangeSet.Create([range]);

        Assert.Equal(expected, set.Contains(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("10.1.0.0/16", "::ffff:10.1.2.3", true)]
    [InlineData("10.1.0.0/16", "::ffff:10.2.0.0", false)]
    [InlineData("0.0.0.0/0", "::ffff:1.2.3.4", true)]
    [InlineData("::ffff:10.1.0.0/112", "10.1.9.9", true)]
    [InlineData("::ffff:10.1.0.0/112", "10.2.9.9", false)]
    public void IPv4_ranges_match_IPv4_mapped_IPv6_addresses_and_back(string range, string address, bool expected)
    {
        var set = IPRangeSet.Create([range]);

        Assert.Equal(expected, set.Contains(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("10.0.0.300", "is not an IP address")]
    [InlineData("example.org", "is not an IP address")]
    [InlineData("10.0.0.0/33", "invalid prefix length (expected 0 to 32)")]
    [InlineData("2001:db8::/129", "invalid prefix length (expected 0 to 128)")]
    [InlineData("10.0.0.0/-1", "invalid prefix length")]
    [InlineData("10.0.0.0/", "invalid prefix length")]
    [InlineData("10.1.2.3/16", "did you mean 10.1.0.0/16?")]
    [InlineData("fe80::1%3", "is not an IP address")]
    public void Invalid_entries_are_rejected_with_the_reason(string text, string reason)
    {
        Assert.False(IPRange.TryParse(text, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}
