using System.Text.RegularExpressions;
using GrayRelease.ReliabilityTests.Infrastructure;
using GrayRelease.Testing;
using GatewayEventIds = GrayRelease.Yarp.EventIds;
using NacosEventIds = GrayRelease.Nacos.Diagnostics.EventIds;
using Microsoft.Extensions.Logging;

namespace GrayRelease.ReliabilityTests.Scenarios;

/// <summary>Scenario 6: what a client controls at the edge, and what must never reach a log.</summary>
public sealed partial class EdgeSecurityTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Client_supplied_gray_header_never_makes_a_request_gray_without_a_rule()
    {
        using var bound = Suite.Bound(TimeSpan.FromSeconds(60));
        var ct = bound.Token;
        await using var system = await GraySystem.StartAsync(null, ct);
        var gateway = await system.StartStandardAsync(ct);
        using var client = GraySystem.ClientFor(gateway);
        await Warmup.UntilRoutedAsync(client, ct);

        string[] claims = ["GRAY", "gray", "Gray", " GRAY ", "ALL", "all", "PROD"];
        var result = await LoadRunner.RunAsync(client, claims.Length * 20, 8, i => new LoadRequest($"/order/orders/{i}", Expect.Prod, [new("gray", claims[i % claims.Length])]), ct);
        // The same header name with the rule's value does make it gray: the rule is live, so the claims above were really refused.
        var control = await LoadRunner.RunAsync(client, 20, 4, i => new LoadRequest($"/order/orders/{i}", Expect.Gray, [new("gray", GraySystem.GrayHeaderValue)]), ct);

        output.WriteLine(result.Summary("client claims gray/all/prod in the 'gray' header, switch on, no rule matches"));
        output.WriteLine(control.Summary("control: header rule value gray-996"));
        foreach (var problem in result.Problems())
        {
            output.WriteLine(problem);
        }

        Assert.Equal(0, result.Failures + control.Failures);
        Assert.Equal(0, result.CrossTalk);
        Assert.Equal(0, control.CrossTalk);
    }

    [Fact]
    public async Task Forged_X_Forwarded_For_from_an_untrusted_peer_does_not_fire_the_ip_rule()
    {
        using var bound = Suite.Bound(TimeSpan.FromSeconds(60));
        var ct = bound.Token;
        await using var system = await GraySystem.StartAsync(null, ct);
        var gateway = await system.StartStandardAsync(ct);
        using var client = GraySystem.ClientFor(gateway);
        await Warmup.UntilRoutedAsync(client, ct);
        var forged = new KeyValuePair<string, string>[] { new("X-Forwarded-For", "203.0.113.7"), new("X-Real-IP", "203.0.113.7") };

        await ApplyGatewayRulesAsync(system, gateway, """TrustedProxies: [ "10.9.9.9" ]""", ct);
        var untrusted = await LoadRunner.RunAsync(client, 40, 4, i => new LoadRequest($"/order/orders/{i}", Expect.Prod, forged), ct);

        // Control: the same forged request from a peer the gateway does trust fires the rule, so the rule itself works.
        await ApplyGatewayRulesAsync(system, gateway, """TrustedProxies: [ "127.0.0.1" ]""", ct);
        var trusted = await LoadRunner.RunAsync(client, 40, 4, i => new LoadRequest($"/order/orders/{i}", Expect.Gray, forged), ct);

        output.WriteLine(untrusted.Summary("X-Forwarded-For: 203.0.113.7 (in IpList) from untrusted 127.0.0.1"));
        output.WriteLine(trusted.Summary("control: the same from 127.0.0.1 listed in TrustedProxies"));
        foreach (var problem in untrusted.Problems().Concat(trusted.Problems()))
        {
            output.WriteLine(problem);
        }

        Assert.Equal(0, untrusted.Failures + trusted.Failures);
        Assert.Equal(0, untrusted.CrossTalk);
        Assert.Equal(0, trusted.CrossTalk);
    }

    [Fact]
    public async Task Nacos_credentials_never_appear_in_any_log_of_any_host_at_any_level()
    {
        using var bound = Suite.Bound(TimeSpan.FromSeconds(90));
        var ct = bound.Token;
        var options = new SystemOptions { AuthEnabled = true, MinimumLogLevel = LogLevel.Trace };
        await using var system = await GraySystem.StartAsync(options, ct);
        var gateway = await system.StartStandardAsync(ct);
        using var client = GraySystem.ClientFor(gateway);
        await Warmup.UntilRoutedAsync(client, ct);

        // Exercise every authenticated path: registration and beats (done), discovery and push, configuration reload, traffic.
        var reloads = system.Logs.Where(gateway.Name, "GrayRelease.Nacos.", NacosEventIds.ConfigChanged).Count();
        system.Publish(GraySystem.GatewayOnDataId, GraySystem.GatewayConfig(enabled: true, GraySystem.GrayHeaderValue, """UserIdHeader: X-User-Id"""));
        await Eventually.WaitUntilAsync(() => system.Logs.Where(gateway.Name, "GrayRelease.Nacos.", NacosEventIds.ConfigChanged).Count() > reloads, "the gateway reloaded its configuration", cancellationToken: ct);
        var fresh = await system.StartUserAsync("V1", ct);
        var traffic = await LoadRunner.RunAsync(client, 100, 4, i => new LoadRequest($"/order/orders/{i}", i % 2 == 0 ? Expect.Prod : Expect.Gray, i % 2 == 0 ? null : [new("gray", GraySystem.GrayHeaderValue)]), ct);
        await Eventually.WaitUntilAsync(() => system.Emulator.GetInstances("user-app").Any(i => i.Port == fresh.Port), "the new instance registered with credentials", cancellationToken: ct);

        var entries = system.Logs.Entries.ToList();
        var leaks = entries.Where(e => e.AllText.Contains(options.Password, StringComparison.Ordinal) || TokenPattern().IsMatch(e.AllText)).ToList();
        output.WriteLine(traffic.Summary("traffic with Nacos auth on, every host logging at Trace"));
        output.WriteLine($"  captured {entries.Count} log lines from {entries.Select(e => e.Host).Distinct().Count()} hosts (emulator included), {entries.Count(e => e.Level == LogLevel.Trace)} at Trace, {entries.Count(e => e.Category.StartsWith("GrayRelease.Nacos", StringComparison.Ordinal))} from GrayRelease.Nacos; lines with the password or a token: {leaks.Count}");
        foreach (var leak in leaks.Take(5))
        {
            output.WriteLine($"  LEAK {leak.Host} {leak.Category} {leak.EventId}: {leak.AllText[..Math.Min(300, leak.AllText.Length)]}");
        }

        Assert.Equal(0, traffic.Failures);
        Assert.True(entries.Any(e => e.Level == LogLevel.Trace), "Trace logging really was on");
        Assert.Contains(entries, e => e.Category == "GrayRelease.Nacos.Http" && e.EventId == NacosEventIds.LoggedIn); // logged in: auth was exercised
        Assert.Matches(TokenPattern(), "GET /nacos/v1/ns/instance/list?accessToken=eyJhbGciOiJIUzI1NiJ9.e30.sig"); // the search can find one
        Assert.Empty(leaks);
    }

    private static async Task ApplyGatewayRulesAsync(GraySystem system, AppHost gateway, string trustedProxies, CancellationToken ct)
    {
        var loaded = system.Logs.Where(gateway.Name, "GrayRelease.Yarp.", GatewayEventIds.GatewayRulesCompiled).Count();
        system.Publish(GraySystem.GatewayOnDataId, GraySystem.GatewayConfig(enabled: true, GraySystem.GrayHeaderValue, """IpList: [ "203.0.113.7" ]""", trustedProxies));
        await Eventually.WaitUntilAsync(() => system.Logs.Where(gateway.Name, "GrayRelease.Yarp.", GatewayEventIds.GatewayRulesCompiled).Count() > loaded, "the gateway compiled the new rules", cancellationToken: ct);
    }

    // A token in a query string, a JSON body or an Authorization header: anything longer than a placeholder.
    [GeneratedRegex("""(accessToken["=:\s]+[^&"\s*]{12,})|(Bearer\s+[A-Za-z0-9_\-\.]{12,})""", RegexOptions.IgnoreCase)]
    private static partial Regex TokenPattern();
}
