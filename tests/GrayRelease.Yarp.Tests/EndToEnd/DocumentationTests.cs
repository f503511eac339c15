using System.Text;
using System.Text.RegularExpressions;
using GrayRelease.Yarp.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GrayRelease.Yarp.Tests.EndToEnd;

/// <summary>Keeps docs/gateway.md true: its example configuration must start a gateway that behaves as described.</summary>
public sealed partial class DocumentationTests
{
    [Fact]
    public async Task Documented_appsettings_example_starts_a_gateway_with_the_described_rules()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var config = new GatewayConfig();
        config.Values.Clear();
        foreach (var (key, value) in new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(ReadExample()))).Build().AsEnumerable())
        {
            config.Values[key] = value;
        }

        await using var gateway = await GatewayHost.StartAsync(config, cts.Token);

        var options = gateway.Services.GetRequiredService<IOptionsMonitor<GrayGatewayOptions>>().CurrentValue;
        Assert.True(options.Enabled);
        var engine = gateway.Services.GetRequiredService<GrayDecisionEngine>();
        Assert.Equal("city", engine.Decide(Rules.RuleTestContext.Request("10.1.2.3")).Rule);
        Assert.Equal("city", engine.Decide(Rules.RuleTestContext.Request("2001:db8:1a::3")).Rule);
        Assert.Equal("ip", engine.Decide(Rules.RuleTestContext.Request("10.8.0.1")).Rule);
        Assert.Equal("user", engine.Decide(Rules.RuleTestContext.Request("192.0.2.1", ("X-User-Id", "10001"))).Rule);

        // The lanes of the example: tried by priority, independent of the gray decision.
        Assert.Equal(["feature-a", "feature-b"], engine.Rules.Lanes.Select(l => l.Name));
        Assert.Equal("feature-a", engine.Decide(Rules.RuleTestContext.Request("192.0.2.1", ("x-lane", "feature-a"), ("X-User-Id", "tester-7"))).Lane);
        var grayInLane = engine.Decide(Rules.RuleTestContext.Request("10.8.0.1", ("X-User-Id", "tester-7")));
        Assert.Equal((GrayStatus.Gray, "feature-b"), (grayInLane.Status, grayInLane.Lane));
        var core = gateway.Services.GetRequiredService<IOptionsMonitor<GrayReleaseOptions>>().CurrentValue;
        Assert.Equal(LaneMode.Strict, core.GetLaneMode("feature-b"));
    }

    private static string ReadExample()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "GrayRelease.sln")))
        {
            directory = directory.Parent;
        }

        Assert.NotNull(directory);
        var markdown = File.ReadAllText(Path.Combine(directory.FullName, "docs", "gateway.md"));
        return JsonBlock().Match(markdown).Groups[1].Value;
    }

    [GeneratedRegex("```json\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex JsonBlock();
}
