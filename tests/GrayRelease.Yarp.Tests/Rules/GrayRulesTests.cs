using System.Net;
using Moq;
using static GrayRelease.Yarp.Tests.Rules.RuleTestContext;

namespace GrayRelease.Yarp.Tests.Rules;

public class GrayRulesTests
{
    [Fact]
    public void Switch_off_makes_every_request_ALL_even_when_a_rule_would_match()
    {
        var options = new GrayGatewayOptions { Enabled = false, IpList = ["203.0.113.10"] };

        var decision = Decide(options, Request("203.0.113.10", ("gray", "gray-996")));

        Assert.Equal(GrayStatus.All, decision.Status);
        Assert.Equal("disabled", decision.Rule);
    }

    [Fact]
    public void Switch_on_without_a_matching_rule_is_PROD()
    {
        var decision = Decide(Enabled(o => o.IpList = ["10.0.0.1"]), Request("203.0.113.10"));

        Assert.Equal(GrayStatus.Prod, decision.Status);
        Assert.Equal("none", decision.Rule);
    }

    [Fact]
    public void Header_rule_matches_the_configured_value()
    {
        var options = new GrayGatewayOptions { Enabled = true };

        var decision = Decide(options, Request(headers: ("GRAY", "gray-996")));

        Assert.Equal(GrayStatus.Gray, decision.Status);
        Assert.Equal("header", decision.Rule);
    }

    [Theory]
    [InlineData("GRAY")]
    [InlineData("gray")]
    [InlineData("Gray-996")]
    [InlineData("gray-9966")]
    [InlineData("")]
    public void Header_rule_does_not_match_other_values(string value)
    {
        var decision = Decide(new GrayGatewayOptions { Enabled = true }, Request(headers: ("gray", value)));

        Assert.Equal(GrayStatus.Prod, decision.Status);
    }

    [Fact]
    public void Header_rule_uses_the_configured_header_name()
    {
        var options = Enabled(o => (o.HeaderName, o.HeaderValue) = ("X-Canary", "yes"));

        Assert.Equal(GrayStatus.Gray, Decide(options, Request(headers: ("x-canary", "yes"))).Status);
        Assert.Equal(GrayStatus.Prod, Decide(options, Request(headers: ("gray", "yes"))).Status);
    }

    [Theory]
    [InlineData("203.0.113.10", true)]
    [InlineData("203.0.113.11", false)]
    [InlineData("10.20.30.40", true)]
    [InlineData("::ffff:10.20.30.40", true)]
    [InlineData("2001:db8:1::5", true)]
    [InlineData("2001:db8:2::5", false)]
    public void IP_rule_matches_addresses_and_ranges(string client, bool gray)
    {
        var options = Enabled(o => o.IpList = ["203.0.113.10", "10.20.0.0/16", "2001:db8:1::/48"]);

        var decision = Decide(options, Request(client));

        Assert.Equal(gray ? GrayStatus.Gray : GrayStatus.Prod, decision.Status);
        Assert.Equal(gray ? "ip" : "none", decision.Rule);
    }

    [Fact]
    public void City_rule_matches_the_city_of_the_client_address()
    {
        var cities = new Mock<ICityResolver>();
        cities.Setup(c => c.ResolveCity(IPAddress.Parse("203.0.113.10"))).Returns("hangzhou");
        cities.Setup(c => c.ResolveCity(IPAddress.Parse("203.0.113.11"))).Returns("Beijing");
        var options = Enabled(o => o.CityList = ["Hangzhou"]);

        Assert.Equal("city", Decide(options, Request("203.0.113.10"), cities.Object).Rule);
        Assert.Equal(GrayStatus.Prod, Decide(options, Request("203.0.113.11"), cities.Object).Status);
        Assert.Equal(GrayStatus.Prod, Decide(options, Request("203.0.113.12"), cities.Object).Status);
    }

    [Fact]
    public void User_rule_matches_the_user_id_header()
    {
        var options = Enabled(o => (o.UserIdList, o.UserIdHeader) = (["u-1", "u-2"], "X-User-Id"));

        Assert.Equal("user", Decide(options, Request(headers: ("X-User-Id", "u-2"))).Rule);
        Assert.Equal(GrayStatus.Prod, Decide(options, Request(headers: ("X-User-Id", "U-2"))).Status);
        Assert.Equal(GrayStatus.Prod, Decide(options, Request(headers: ("X-Other", "u-2"))).Status);
    }

    [Fact]
    public void User_rule_prefers_the_authenticated_claim_over_the_header()
    {
        var options = Enabled(o => (o.UserIdList, o.UserIdHeader, o.UserIdClaim) = (["u-1"], "X-User-Id", "sub"));

        Assert.Equal("user", Decide(options, Request().WithUser(("sub", "u-1"))).Rule);
        Assert.Equal(GrayStatus.Prod, Decide(options, Request(headers: ("X-User-Id", "u-1")).WithUser(("sub", "u-9"))).Status);
    }

    [Fact]
    public void User_rule_ignores_claims_of_an_unauthenticated_user()
    {
        var options = Enabled(o => (o.UserIdList, o.UserIdClaim) = (["u-1"], "sub"));
        var context = Request();
        context.User = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity([new System.Security.Claims.Claim("sub", "u-1")]));

        Assert.Equal(GrayStatus.Prod, Decide(options, context).Status);
    }

    [Fact]
    public void Percentage_100_makes_everyone_gray_and_0_nobody()
    {
        var everyone = Enabled(o => o.Percentage = 100);
        var nobody = Enabled(o => o.Percentage = 0);

        for (var i = 0; i < 200; i++)
        {
            var request = Request(headers: ("X-User-Id", $"user-{i}"));
            Assert.Equal(GrayStatus.Gray, Decide(everyone, Request($"198.51.100.{i % 250}")).Status);
            Assert.Equal(GrayStatus.Prod, Decide(nobody, request).Status);
        }
    }

    [Fact]
    public void Rules_are_evaluated_in_order_and_the_first_match_names_the_decision()
    {
        var options = new GrayGatewayOptions { Enabled = true, IpList = ["203.0.113.10"], UserIdList = ["u-1"], UserIdHeader = "X-User-Id" };

        var decision = Decide(options, Request("203.0.113.10", ("gray", "gray-996"), ("X-User-Id", "u-1")));

        Assert.Equal("header", decision.Rule);
    }

    [Fact]
    public void Custom_rules_run_after_the_configured_ones()
    {
        var custom = new PathRule();
        var options = Enabled();
        var request = Request();
        request.Request.Path = "/beta";

        var decision = Decide(options, request, null, custom);

        Assert.Equal(GrayStatus.Gray, decision.Status);
        Assert.Equal("beta-testers", decision.Rule);
        Assert.Equal(GrayStatus.Prod, Decide(options, Request(), null, custom).Status);
    }

    [Fact]
    public void Decisions_are_reused_between_requests()
    {
        var rules = GrayRuleSet.Compile(Enabled(o => o.IpList = ["203.0.113.10"]), [], Mock.Of<ICityResolver>());

        Assert.Same(rules.Decide(Request("203.0.113.10")), rules.Decide(Request("203.0.113.10")));
        Assert.Same(rules.Decide(Request("203.0.113.11")), rules.Decide(Request("203.0.113.12")));
    }

    [Fact]
    public void Deciding_a_request_allocates_nothing()
    {
        var options = new GrayGatewayOptions
        {
            Enabled = true,
            IpList = ["10.0.0.0/8", "2001:db8::/32"],
            UserIdList = ["u-1", "u-2"],
            UserIdHeader = "X-User-Id",
            Percentage = 5,
        };
        var rules = GrayRuleSet.Compile(options, [], Mock.Of<ICityResolver>());
        var prod = Request("203.0.113.10", ("X-User-Id", "user-123456"), ("gray", "GRAY"));
        var gray = Request("10.1.2.3");
        rules.Decide(prod);
        rules.Decide(gray);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            rules.Decide(prod);
            rules.Decide(gray);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(GrayStatus.Prod, rules.Decide(prod).Status);
        Assert.Equal(GrayStatus.Gray, rules.Decide(gray).Status);
    }

    private sealed class PathRule : IGrayRule
    {
        public string Name => "beta-testers";

        public bool IsGray(in GrayRuleContext context) => context.HttpContext.Request.Path == "/beta";
    }
}
