using System.Diagnostics;
using GrayRelease.ReliabilityTests.Infrastructure;
using GrayRelease.Testing;
using NacosEventIds = GrayRelease.Nacos.Diagnostics.EventIds;
using Microsoft.Extensions.Logging;

namespace GrayRelease.ReliabilityTests.Scenarios;

/// <summary>Scenario 5: garbage from clients, from the registry and from the configuration centre.</summary>
public sealed class BadInputTests(ITestOutputHelper output)
{
    public static TheoryData<string, string[]> GarbageHeaders() => new()
    {
        { "huge (16 KiB)", [new string('G', 16 * 1024)] },
        { "huge beyond Kestrel's header limit (40 KiB)", ["GRAY" + new string(' ', 40 * 1024)] },
        { "GRAY padded to 1 KiB", ["GRAY" + new string('x', 1020)] },
        { "non-ASCII", ["灰度"] },
        { "non-ASCII look-alike", ["GRАY"] },
        { "Latin-1", ["grä-996"] },
        { "repeated", ["GRAY", "GRAY"] },
        { "repeated, rule value", [GraySystem.GrayHeaderValue, GraySystem.GrayHeaderValue] },
        { "folded list", ["GRAY, PROD"] },
        { "unknown", ["PURPLE"] },
        { "empty", [""] },
        { "control character", ["GR\u0001AY"] },
        { "NUL", ["GRAY\0"] },
        { "injection-looking", ["GRAY'; DROP TABLE users; --"] },
        { "rule value with suffix", [GraySystem.GrayHeaderValue + "x"] },
    };

    [Fact]
    public async Task Garbage_gray_headers_never_cause_a_server_error_or_leak_into_the_next_request()
    {
        using var bound = Suite.Bound(TimeSpan.FromSeconds(90));
        var ct = bound.Token;
        await using var system = await GraySystem.StartAsync(null, ct);
        var gateway = await system.StartStandardAsync(ct);
        var orderV1 = system.Hosts.First(h => h.Service == "order-app" && h.Version == "V1");
        using var viaGateway = GraySystem.ClientFor(gateway);
        using var direct = GraySystem.ClientFor(orderV1);
        await Warmup.UntilRoutedAsync(viaGateway, ct);

        var lines = new List<string>();
        foreach (var row in GarbageHeaders())
        {
            var name = (string)row[0];
            var values = (string[])row[1];

            // Through the gateway (switch on): garbage is never a rule match, so production or a clear 4xx.
            var proxied = await SendGarbageAsync(viaGateway, values, ct);
            var nextProxied = await LoadRunner.SendAsync(viaGateway, new LoadRequest("/order/orders/1", Expect.Prod), ct);

            // Straight to order-app V1: an unreadable tag is ignored, so the call goes on as untagged (its own version).
            var straight = await SendGarbageAsync(direct, values, ct, path: "/orders/1");
            var nextStraight = await LoadRunner.SendAsync(direct, new LoadRequest("/orders/1", Expect.Prod), ct);

            lines.Add($"  {name,-44} gateway {Describe(proxied)} then {Describe(nextProxied)}; direct {Describe(straight)} then {Describe(nextStraight)}");
            Assert.True(proxied.Status is 200 or (>= 400 and < 500), $"{name} via the gateway: {proxied}");
            Assert.True(straight.Status is 200 or (>= 400 and < 500), $"{name} direct: {straight}");
            Assert.False(proxied.IsCrossTalk, $"{name} via the gateway crossed versions: {proxied}");
            Assert.True(straight.Status != 200 || straight.UserVersion == "V1", $"{name} direct did not stay on V1: {straight}");
            Assert.True(nextProxied.Succeeded && !nextProxied.IsCrossTalk, $"after {name} via the gateway: {nextProxied}");
            Assert.True(nextStraight.Succeeded && nextStraight.UserVersion == "V1", $"after {name} direct: {nextStraight}");
        }

        // A real tag on one request must not stay behind for the next one on the same connection.
        var tagged = await SendGarbageAsync(direct, ["GRAY"], ct, path: "/orders/1");
        var untagged = await LoadRunner.SendAsync(direct, new LoadRequest("/orders/1", Expect.Prod), ct);
        lines.Add($"  {"valid GRAY direct, then untagged",-44} direct {Describe(tagged)} then {Describe(untagged)}");
        output.WriteLine("[" + Suite.Mode + "] garbage gray headers (status order→user):");
        lines.ForEach(output.WriteLine);
        Assert.Equal("V2", tagged.UserVersion);
        Assert.Equal("V1", untagged.UserVersion);
        Assert.DoesNotContain(system.Logs.Entries, e => e.Level >= LogLevel.Error && e.Host.StartsWith("order-app", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Malformed_truncated_and_hanging_registry_answers_keep_the_previous_instance_lists()
    {
        using var bound = Suite.Bound(TimeSpan.FromSeconds(90));
        var ct = bound.Token;
        // The faults are HTTP answers of the v1 list call, which only the HTTP transport polls.
        await using var system = await GraySystem.StartAsync(new SystemOptions { Transport = "Http" }, ct);
        var gateway = await system.StartStandardAsync(ct);
        using var client = GraySystem.ClientFor(gateway);
        await Warmup.UntilRoutedAsync(client, ct);
        await using var load = LoadRunner.Start(client, concurrency: 10, Mixed, ct);
        await load.WaitForMoreAsync(100, ct);
        var faults = system.Emulator.Faults;
        faults.PathPrefix = "/nacos/v1/ns/instance/list";
        var phases = new List<string>();

        async Task PhaseAsync(string name, int eventId, Action set)
        {
            var seen = system.Logs.Entries.Count(e => e.EventId == eventId && e.Category.StartsWith("GrayRelease.Nacos", StringComparison.Ordinal));
            var watch = Stopwatch.StartNew();
            var before = load.Completed;
            set();
            // Every client polls each service once a second: wait until the bad answers have been read and logged.
            await Eventually.WaitUntilAsync(
                () => system.Logs.Entries.Count(e => e.EventId == eventId && e.Category.StartsWith("GrayRelease.Nacos", StringComparison.Ordinal)) >= seen + 3,
                $"the clients logged event {eventId} for '{name}'", cancellationToken: ct);
            faults.MalformedBodies = false;
            faults.ServerErrors = false;
            faults.Hang = false;
            phases.Add($"  {name}: {watch.Elapsed.TotalSeconds:F1} s, {load.Completed - before} requests, failures so far {load.Outcomes.Count(o => !o.Succeeded)}");
        }

        await PhaseAsync("truncated JSON list answers", NacosEventIds.MalformedInstanceList, () => faults.MalformedBodies = true);
        await PhaseAsync("500 list answers", NacosEventIds.RefreshFailed, () => faults.ServerErrors = true);
        await PhaseAsync("hanging registry (client timeout 3 s)", NacosEventIds.RefreshFailed, () => faults.Hang = true);
        faults.Reset();

        // The lists were kept, not frozen: a registry change after the faults is still followed.
        var fresh = await system.StartUserAsync("V2", ct);
        await Eventually.WaitUntilAsync(() => load.Outcomes.Any(o => o.UserPort == fresh.Port), "a new gray user-app instance gets traffic after the faults", cancellationToken: ct);
        var result = await load.StopAsync();

        output.WriteLine(result.Summary("malformed, failing and hanging registry answers under 10 in flight"));
        phases.ForEach(output.WriteLine);
        foreach (var problem in result.Problems())
        {
            output.WriteLine(problem);
        }

        Assert.Equal(0, result.Failures);
        Assert.Equal(0, result.CrossTalk);
    }

    [Fact]
    public async Task Invalid_gateway_rules_pushed_through_Nacos_keep_the_previous_rules_and_are_logged()
    {
        using var bound = Suite.Bound(TimeSpan.FromSeconds(60));
        var ct = bound.Token;
        await using var system = await GraySystem.StartAsync(null, ct);
        var gateway = await system.StartStandardAsync(ct);
        using var client = GraySystem.ClientFor(gateway);
        await Warmup.UntilRoutedAsync(client, ct);
        var reloads = system.Logs.Where(gateway.Name, "GrayRelease.Nacos.", NacosEventIds.ConfigChanged).Count();

        // A bad CIDR, and a new header value that would show if this change were applied.
        system.Publish(GraySystem.GatewayOnDataId, GraySystem.GatewayConfig(enabled: true, "gray-997", """IpList: [ "10.0.0.0/33" ]"""));
        await Eventually.WaitUntilAsync(() => system.Logs.Where(gateway.Name, "GrayRelease.Nacos.", NacosEventIds.ConfigChanged).Count() > reloads, "the gateway read the new configuration", cancellationToken: ct);

        var gray = await LoadRunner.RunAsync(client, 50, 5, i => new LoadRequest($"/order/orders/{i}", Expect.Gray, [new("gray", GraySystem.GrayHeaderValue)]), ct);
        var prod = await LoadRunner.RunAsync(client, 50, 5, i => new LoadRequest($"/order/orders/{i}", Expect.Prod, [new("gray", "gray-997")]), ct);
        var errors = system.Logs.Entries.Where(e => e.Host == gateway.Name && e.Level >= LogLevel.Warning && e.AllText.Contains("IpList", StringComparison.Ordinal)).ToList();
        output.WriteLine(gray.Summary("after an invalid gateway config: gray-996 (old rule)"));
        output.WriteLine(prod.Summary("after an invalid gateway config: gray-997 (rejected rule)"));
        output.WriteLine($"  log lines naming IpList: {errors.Count}{(errors.Count > 0 ? " — " + errors[0].Message : "")}");
        foreach (var problem in gray.Problems().Concat(prod.Problems()))
        {
            output.WriteLine(problem);
        }

        Assert.Equal(0, gray.Failures + prod.Failures);
        Assert.Equal(0, gray.CrossTalk + prod.CrossTalk);
        Assert.NotEmpty(errors);
    }

    [Fact]
    public async Task Invalid_core_options_pushed_through_Nacos_keep_the_previous_values_and_are_logged()
    {
        using var bound = Suite.Bound(TimeSpan.FromSeconds(60));
        var ct = bound.Token;
        await using var system = await GraySystem.StartAsync(null, ct);
        var gateway = await system.StartStandardAsync(ct);
        using var client = GraySystem.ClientFor(gateway);
        await Warmup.UntilRoutedAsync(client, ct);
        var services = system.Hosts.Where(h => h.Service is "order-app" or "user-app").ToList();
        var reloads = services.ToDictionary(h => h.Name, h => system.Logs.Where(h.Name, "GrayRelease.Nacos.", NacosEventIds.ConfigChanged).Count());

        system.Publish(GraySystem.CommonDataId, GraySystem.DefaultCommonConfig + "\n  HeaderName: bad header\n");
        await Eventually.WaitUntilAsync(() => services.All(h => system.Logs.Where(h.Name, "GrayRelease.Nacos.", NacosEventIds.ConfigChanged).Count() > reloads[h.Name]), "every service read the new configuration", cancellationToken: ct);

        var result = await LoadRunner.RunAsync(client, 200, 10, Mixed, ct);
        var errors = system.Logs.Entries.Where(e => e.Level >= LogLevel.Warning && e.AllText.Contains("HeaderName", StringComparison.Ordinal)).ToList();
        output.WriteLine(result.Summary("after GrayRelease:HeaderName 'bad header' was pushed"));
        output.WriteLine($"  log lines naming HeaderName: {errors.Count}{(errors.Count > 0 ? " — " + errors[0].Host + ": " + errors[0].Message : "")}");
        foreach (var problem in result.Problems(5))
        {
            output.WriteLine(problem);
        }

        foreach (var error in system.Logs.Entries.Where(e => e.Level >= LogLevel.Error).GroupBy(e => e.Category + " " + e.EventId).Take(5))
        {
            output.WriteLine($"  {error.Count()} x {error.Key} on {string.Join(", ", error.Select(e => e.Host).Distinct())}: {error.First().Message} {error.First().Exception?.Split('\n')[0]}");
        }

        Assert.Equal(0, result.Failures);
        Assert.Equal(0, result.CrossTalk);
        Assert.NotEmpty(errors);
    }

    private static LoadRequest Mixed(int i) => i % 2 == 0
        ? new LoadRequest($"/order/orders/{i}", Expect.Gray, [new("gray", GraySystem.GrayHeaderValue)])
        : new LoadRequest($"/order/orders/{i}", Expect.Prod);

    private static async Task<LoadOutcome> SendGarbageAsync(HttpClient client, string[] values, CancellationToken ct, string path = "/order/orders/1")
    {
        var request = new LoadRequest(path, Expect.Prod, [.. values.Select(v => new KeyValuePair<string, string>("gray", v))]);
        try
        {
            return await LoadRunner.SendAsync(client, request, ct);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return new LoadOutcome(Expect.Prod, -1, null, null, 0, 0, 0, "client refused to send: " + exception.Message);
        }
    }

    private static string Describe(LoadOutcome outcome) =>
        outcome.Succeeded ? $"200 {outcome.OrderVersion}→{outcome.UserVersion}" : $"{outcome.Status}{(outcome.Error is { } e ? " (" + e[..Math.Min(e.Length, 60)].ReplaceLineEndings(" ") + ")" : "")}";
}
