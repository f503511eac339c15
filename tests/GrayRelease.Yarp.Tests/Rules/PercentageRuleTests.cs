using System.Net;
using static GrayRelease.Yarp.Tests.Rules.RuleTestContext;

namespace GrayRelease.Yarp.Tests.Rules;

public class PercentageRuleTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(25)]
    [InlineData(50)]
    [InlineData(90)]
    public void Share_of_10000_users_is_within_2_points_of_the_percentage(double percentage)
    {
        var options = Enabled(o => (o.Percentage, o.UserIdHeader) = (percentage, "X-User-Id"));
        var rules = GrayRuleSet.Compile(options, [], Moq.Mock.Of<ICityResolver>());

        var gray = 0;
        for (var i = 0; i < 10_000; i++)
        {
            if (rules.Decide(Request(headers: ("X-User-Id", $"user-{i}"))).Status == GrayStatus.Gray)
            {
                gray++;
            }
        }

        Assert.InRange(gray / 100.0, percentage - 2, percentage + 2);
    }

    [Fact]
    public void Every_user_gets_the_same_answer_every_time_and_from_every_gateway_instance()
    {
        var options = Enabled(o => (o.Percentage, o.UserIdHeader) = (30, "X-User-Id"));
        var first = GrayRuleSet.Compile(options, [], Moq.Mock.Of<ICityResolver>());
        var second = GrayRuleSet.Compile(options, [], Moq.Mock.Of<ICityResolver>());

        for (var i = 0; i < 10_000; i++)
        {
            var request = Request(headers: ("X-User-Id", $"user-{i}"));
            var expected = first.Decide(request).Status;
            Assert.Equal(expected, first.Decide(request).Status);
            Assert.Equal(expected, second.Decide(Request(headers: ("X-User-Id", $"user-{i}"))).Status);
        }
    }

    [Fact]
    public void Buckets_do_not_depend_on_the_process()
    {
        // Pinned values (also computed independently: FNV-1a 64 over UTF-8, SplitMix64 finaliser, mod 10,000).
        // string.GetHashCode would change them on every run; a change here moves users between versions.
        var rule = new PercentageRule(10, salt: null);

        Assert.Equal(ExpectedBucketOfUser42, rule.GetBucket("user-42"));
        Assert.Equal(ExpectedBucketOfAddress, rule.GetBucket(IPAddress.Parse("198.51.100.7")));
    }

    [Fact]
    public void Without_a_user_id_the_client_address_decides_and_IPv4_mapped_is_the_same_client()
    {
        var rule = new PercentageRule(50, salt: null);

        Assert.Equal(rule.GetBucket(IPAddress.Parse("198.51.100.7")), rule.GetBucket(IPAddress.Parse("::ffff:198.51.100.7")));
        var options = Enabled(o => o.Percentage = 50);
        var gray = 0;
        for (var i = 0; i < 2_000; i++)
        {
            var address = new IPAddress([10, 0, (byte)(i / 250), (byte)(i % 250)]).ToString();
            if (Decide(options, Request(address)).Status == GrayStatus.Gray)
            {
                gray++;
            }
        }

        Assert.InRange(gray, 800, 1200);
    }

    [Fact]
    public void A_different_salt_picks_a_different_set_of_users()
    {
        var plain = new PercentageRule(10, salt: null);
        var salted = new PercentageRule(10, salt: "rollout-2");

        var moved = 0;
        for (var i = 0; i < 1_000; i++)
        {
            if (plain.GetBucket($"user-{i}") != salted.GetBucket($"user-{i}"))
            {
                moved++;
            }
        }

        Assert.True(moved > 900, $"only {moved} of 1000 users changed bucket");
    }

    [Fact]
    public void Long_user_ids_are_hashed_without_failing()
    {
        var rule = new PercentageRule(10, salt: null);
        var id = new string('x', 5_000) + "\u00e9\U0001F600";

        Assert.Equal(rule.GetBucket(id), rule.GetBucket(new string(id.AsSpan())));
        Assert.InRange(rule.GetBucket(id), 0, PercentageRule.Buckets - 1);
    }

    private const int ExpectedBucketOfUser42 = 8355;
    private const int ExpectedBucketOfAddress = 5732;
}
