using Yarp.ReverseProxy.Model;
using static GrayRelease.Yarp.Tests.Routing.ClusterBuilder;

namespace GrayRelease.Yarp.Tests.Routing;

public class DestinationSetTests
{
    [Fact]
    public void Equal_weights_rotate_strictly()
    {
        var set = new DestinationSet([Destination("a", "v1"), Destination("b", "v1"), Destination("c", "v1", weight: "1")]);

        Assert.Equal(["a", "b", "c", "a", "b", "c"], Picks(set, 6));
    }

    [Theory]
    [InlineData("1", "3", 0.25)]
    [InlineData("10", "90", 0.10)]
    [InlineData("0.5", "1", 1.0 / 3)]
    public void Traffic_follows_the_weights(string weightA, string weightB, double expectedShareOfA)
    {
        var set = new DestinationSet([Destination("a", "v1", weight: weightA), Destination("b", "v1", weight: weightB)]);

        var picks = Picks(set, 10_000);

        Assert.InRange(picks.Count(p => p == "a") / 10_000.0, expectedShareOfA - 0.02, expectedShareOfA + 0.02);
    }

    [Fact]
    public void A_heavy_destination_does_not_take_its_share_in_one_burst()
    {
        var set = new DestinationSet([Destination("a", "v1", weight: "1"), Destination("b", "v1", weight: "3")]);

        var picks = Picks(set, 400);
        var longestRun = 1;
        var run = 1;
        for (var i = 1; i < picks.Count; i++)
        {
            run = picks[i] == picks[i - 1] ? run + 1 : 1;
            longestRun = Math.Max(longestRun, run);
        }

        Assert.True(longestRun <= 6, $"longest run {longestRun}");
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("")]
    [InlineData("NaN")]
    public void Unreadable_weights_count_as_1(string weight)
    {
        Assert.Equal(1, DestinationSet.GetWeight(Destination("a", "v1", weight: weight)));
    }

    private static List<string> Picks(DestinationSet set, int count)
    {
        var picks = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            picks.Add(set.Next().DestinationId);
        }

        return picks;
    }
}
