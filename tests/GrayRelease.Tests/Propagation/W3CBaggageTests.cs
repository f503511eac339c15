using System.Text;
using GrayRelease.Propagation;
using Microsoft.Extensions.Primitives;

namespace GrayRelease.Tests.Propagation;

/// <summary>The W3C Baggage header format (w3c/baggage, baggage/HTTP_HEADER_FORMAT.md) as our parser and writer read it.</summary>
public sealed class W3CBaggageTests
{
    /// <summary>Malformed list-members: none of them may yield a gray member, and parsing never throws.</summary>
    public static TheoryData<string> Malformed => new(MalformedInputs);

    internal static readonly string[] MalformedInputs =
    [
        "gray.status",                              // no '='
        "=GRAY",                                    // empty key
        "gray status=GRAY",                         // space inside the key
        "gray.status=GR AY",                        // space inside the value
        "gray.status=\"GRAY\"",                     // DQUOTE is no baggage-octet
        "gray.status=GRAY\\",                       // backslash
        "gray.status=%G1",                          // bad percent-encoding
        "gray.status=GRAY%",                        // truncated percent-encoding
        "gray.status=GRAY%4",                       // truncated percent-encoding
        "gray.status=%FF%FE",                       // percent-encoded bytes that are not UTF-8
        "gray.status=GRAY;",                        // ';' without a property
        "gray.status=GRAY;p=\"x\"",                 // malformed property value
        "gray.status=GRAY;p q",                     // malformed property key
        "gray.status=GRAY;=v",                      // property without a key
        "gray(status)=GRAY",                        // '(' is no token character
        "gray.status=GRÄY",                         // non-ASCII character
        "gray.status=GRAY\u0000",                   // control character
        "gray.status=\tGR\u007FAY",                 // DEL
        "gray.status:GRAY",                         // ':' instead of '='
        "gray.status=GRAY=;",                       // '=' is allowed in a value, ';' then needs a property
        "gray.status={\"a\":1}",                    // JSON
        "\u00e9=GRAY",                              // non-ASCII key
        "gray.status=GRAY;;x",                      // empty property
        "gray.status==%",                           // '%' alone
    ];

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_member_is_ignored_and_the_others_kept(string malformed)
    {
        var parsed = W3CBaggage.Parse(new StringValues($"other=1,{malformed},last=2"));

        Assert.Equal(-1, parsed.IndexOf("gray.status"));
        Assert.Equal(1, parsed.Malformed);
        Assert.NotNull(parsed.FirstProblem);
        Assert.Equal(["other", "last"], parsed.Members.Select(m => m.Key));
    }

    [Fact]
    public void Whitespace_properties_percent_encoding_and_equal_signs_follow_the_specification()
    {
        var parsed = W3CBaggage.Parse(new StringValues(["  gray.status =  GRAY ; ttl=30;flag , user=al%20ice%C3%A9", "\tq=a=b=c"]));

        Assert.Equal(["gray.status", "user", "q"], parsed.Members.Select(m => m.Key));
        Assert.Equal("GRAY", parsed.Members[0].Value);
        Assert.Equal("gray.status =  GRAY ; ttl=30;flag", parsed.Members[0].Raw);
        Assert.Equal("al iceé", parsed.Members[1].Value);
        Assert.Equal("a=b=c", parsed.Members[2].Value);
        Assert.Equal(0, parsed.Malformed);
    }

    [Fact]
    public void Empty_list_elements_are_skipped_without_counting_as_malformed()
    {
        var parsed = W3CBaggage.Parse(new StringValues(", a=1 ,, ,b=2,"));

        Assert.Equal(["a", "b"], parsed.Members.Select(m => m.Key));
        Assert.Equal(0, parsed.Malformed);
    }

    [Fact]
    public void Members_beyond_180_are_ignored()
    {
        var header = string.Join(',', Enumerable.Range(0, 181).Select(i => $"k{i}=v")) + ",gray.status=GRAY";

        var parsed = W3CBaggage.Parse(new StringValues(header));

        Assert.Equal(W3CBaggage.MaxMembers, parsed.Members.Count);
        Assert.Equal(2, parsed.BeyondLimits);
        Assert.Equal(-1, parsed.IndexOf("gray.status"));
        Assert.True(parsed.Mentions("gray.status")); // decided by the header: not looked up again in the .NET APIs
    }

    [Fact]
    public void Members_beyond_8192_bytes_are_ignored()
    {
        var big = new string('x', 8180);
        var parsed = W3CBaggage.Parse(new StringValues($"big={big},gray.status=GRAY"));

        Assert.Equal(["big"], parsed.Members.Select(m => m.Key));
        Assert.Equal(1, parsed.BeyondLimits);
    }

    [Fact]
    public void Built_headers_put_our_members_first_encode_values_and_stay_within_the_limits()
    {
        var others = Enumerable.Range(0, 200).Select(i => $"k{i}=v").ToList();

        var header = W3CBaggage.Build([new("gray.status", "GRAY"), new("gray.lane", "a b,é")], others)!;

        var parsed = W3CBaggage.Parse(new StringValues(header));
        Assert.Equal(W3CBaggage.MaxMembers, parsed.Members.Count);
        Assert.Equal(("gray.status", "GRAY"), (parsed.Members[0].Key, parsed.Members[0].Value));
        Assert.Equal(("gray.lane", "a b,é"), (parsed.Members[1].Key, parsed.Members[1].Value));
        Assert.StartsWith("gray.status=GRAY,gray.lane=a%20b%2C%C3%A9,k0=v", header, StringComparison.Ordinal);

        var large = W3CBaggage.Build([new("gray.status", "GRAY")], [new string('x', 5000) + "=1", new string('y', 5000) + "=2"])!;
        Assert.True(Encoding.ASCII.GetByteCount(large) <= W3CBaggage.MaxBytes);
        Assert.Equal(2, W3CBaggage.Parse(new StringValues(large)).Members.Count);
    }

    [Theory]
    [InlineData("gray.status", true)]
    [InlineData("x-Gray_Lane~1", true)]
    [InlineData("", false)]
    [InlineData("gray status", false)]
    [InlineData("gray=status", false)]
    [InlineData("gray;status", false)]
    public void A_key_is_an_http_token(string key, bool valid) => Assert.Equal(valid, W3CBaggage.IsKey(key));
}
