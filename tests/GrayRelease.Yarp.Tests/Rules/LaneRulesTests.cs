using System.Net;
using Moq;
using static GrayRelease.Yarp.Tests.Rules.RuleTestContext;

namespace GrayRelease.Yarp.Tests.Rules;

public class LaneRulesTests
{
    [Fact]
    public void Lane_is_decided_independently_of_the_gray_status()
    {
        var options = Enabled(o =>
        {
            o.IpList = ["203.0.113.10"];
            o.Lanes["feature-a"] = new GrayGatewayLaneOptions { HeaderName = "x-lane", HeaderValue = "a" };
        });

        var grayInLane = Decide(options, Request("203.0.113.10", ("x-lane", "a")));
        var prodInLane = Decide(options, Request("203.0.113.11", ("x-lane", "a")));
        var grayOnly = Decide(options, Request("203.0.113.10"));

        Assert.Equal((GrayStatus.Gray, "ip", "feature-a", "header"), (grayInLane.Status, grayInLane.Rule, grayInLane.Lane, grayInLane.LaneRule));
        Assert.Equal((GrayStatus.Prod, "none", "feature-a", "header"), (prodInLane.Status, prodInLane.Rule, prodInLane.Lane, prodInLane.LaneRule));
        Assert.Equal((GrayStatus.Gray, "ip", (string?)null), (grayOnly.Status, grayOnly.Rule, grayOnly.Lane));
    }

    [Fact]
    public void Switch_off_enters_no_lane()
    {
        var options = new GrayGatewayOptions { Enabled = false };
        options.Lanes["feature-a"] = new GrayGatewayLaneOptions { IpList = ["0.0.0.0/0"] };

        var decision = Decide(options, Request("203.0.113.10"));

        Assert.Equal((GrayStatus.All, (string?)null), (decision.Status, decision.Lane));
    }

    [Fact]
    public void Lanes_at_equal_percentages_pick_their_own_users_unless_they_share_a_salt()
    {
        var ownSalts = Enabled(o =>
        {
            o.Lanes["feature-a"] = new GrayGatewayLaneOptions { Percentage = 50, Priority = 1 };
            o.Lanes["feature-b"] = new GrayGatewayLaneOptions { Percentage = 50, Priority = 2 };
            o.UserIdHeader = "X-User-Id";
        });
        var sharedSalt = Enabled(o =>
        {
            o.Lanes["feature-a"] = new GrayGatewayLaneOptions { Percentage = 50, Priority = 1, PercentageSalt = "s" };
            o.Lanes["feature-b"] = new GrayGatewayLaneOptions { Percentage = 50, Priority = 2, PercentageSalt = "s" };
            o.UserIdHeader = "X-User-Id";
        });

        var own = Count(ownSalts);
        var shared = Count(sharedSalt);

        // Own salts: b gets about half of the half a left (2,500 of 10,000); one salt: a takes b's buckets first.
        Assert.InRange(own.GetValueOrDefault("feature-a"), 4_500, 5_500);
        Assert.InRange(own.GetValueOrDefault("feature-b"), 2_000, 3_000);
        Assert.Equal(0, shared.GetValueOrDefault("feature-b"));

        static Dictionary<string, int> Count(GrayGatewayOptions options)
        {
            var rules = GrayRuleSet.Compile(options, [], Mock.Of<ICityResolver>());
            var counts = new Dictionary<string, int>();
            for (var i = 0; i < 10_000; i++)
            {
                if (rules.Decide(Request("203.0.113.10", ("X-User-Id", "user-" + i))).Lane is { } lane)
                {
                    counts[lane] = counts.GetValueOrDefault(lane) + 1;
                }
            }

            return counts;
        }
    }

    [Fact]
    public void Lane_rule_that_throws_counts_as_not_matched_and_the_next_lane_is_tried()
    {
        var cities = new Mock<ICityResolver>();
        cities.Setup(c => c.ResolveCity(It.IsAny<IPAddress>())).Throws(new InvalidOperationException("resolver bug"));
        var options = Enabled(o =>
        {
            o.Lanes["feature-a"] = new GrayGatewayLaneOptions { CityList = ["Hangzhou"], Priority = 1 };
            o.Lanes["feature-b"] = new GrayGatewayLaneOptions { IpList = ["203.0.113.0/24"], Priority = 2 };
        });

        var decision = Decide(options, Request("203.0.113.10"), cities.Object);

        Assert.Equal(("feature-b", "ip"), (decision.Lane, decision.LaneRule));
    }

    [Fact]
    public void Lanes_are_listed_in_the_order_they_are_tried()
    {
        var options = Enabled(o =>
        {
            o.Lanes["zeta"] = new GrayGatewayLaneOptions { Priority = 1, IpList = ["10.0.0.1"] };
            o.Lanes["beta"] = new GrayGatewayLaneOptions { Priority = 2 };
            o.Lanes["alpha"] = new GrayGatewayLaneOptions { Priority = 2, UserIdList = ["u"], Percentage = 1 };
        });

        var rules = GrayRuleSet.Compile(options, [], Mock.Of<ICityResolver>());

        Assert.Equal(["zeta", "alpha", "beta"], rules.Lanes.Select(l => l.Name));
        Assert.Equal("zeta (priority 1: ip), alpha (priority 2: user, percentage), beta (priority 2: no rule)", rules.LaneDescription);
    }
}
