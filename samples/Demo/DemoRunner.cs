using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using GrayRelease.Nacos.Emulator;

namespace GrayRelease.Demo;

/// <summary>
/// Starts Nacos (the emulator, or uses a real server), publishes the configs, starts gateway + order-app V1/V2 +
/// user-app V1/V2 as processes, runs the six scenarios through the gateway, and stops everything it started.
/// </summary>
#pragma warning disable CA1001 // _gateway and _nacos live for one RunAsync call, which disposes them in its finally block.
internal sealed class DemoRunner(DemoOptions options, TextWriter output)
#pragma warning restore CA1001
{
    internal const string CommonConfig = """
        GrayRelease:
          ProdVersion: V1
          GrayVersion: V2
          NoInstancePolicy: FallbackToProd
        """;

    private static readonly TimeSpan ChangeDeadline = TimeSpan.FromSeconds(30);
    private static readonly string[] RegisteredServices = ["order-app", "user-app"];
    private readonly List<SampleProcess> _processes = [];
    private readonly Dictionary<string, SampleProcess> _byName = [];
    private HttpClient _gateway = null!;
    private NacosOpenApi _nacos = null!;
    private string _logFolder = Path.GetTempPath();

    internal static string GatewayConfig(bool enabled, double percentage = 0) => $"""
        GrayRelease:
          Gateway:
            Enabled: {(enabled ? "true" : "false")}
            HeaderName: gray
            HeaderValue: gray-996
            IpList: [ "10.255.255.0/24" ]
            UserIdHeader: X-User-Id
            Percentage: {percentage.ToString(CultureInfo.InvariantCulture)}
        """;

    public IReadOnlyList<ScenarioReport> Reports { get; private set; } = [];

    /// <summary>Every process the demo started (all stopped once <see cref="RunAsync"/> returns).</summary>
    public IReadOnlyList<SampleProcess> Processes => _processes;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var logFolder = _logFolder = Directory.CreateTempSubdirectory("grayrelease-demo-").FullName;
        NacosEmulator? emulator = null;
        var stopwatch = Stopwatch.StartNew();
        try
        {
            string nacosAddress;
            if (options.NacosAddress is null)
            {
                var emulatorOptions = new NacosEmulatorOptions();
                if (options.Profile is { } line)
                {
                    emulatorOptions.ServerLine = line;
                }

                emulator = await NacosEmulator.StartAsync(emulatorOptions, cancellationToken);
                nacosAddress = emulator.ServerAddress;
                output.WriteLine($"Nacos emulator ({emulator.ServerLine}) started at {nacosAddress} (use --nacos <address> for a real server).");
            }
            else
            {
                nacosAddress = options.NacosAddress.TrimEnd('/');
                output.WriteLine($"Using the Nacos server at {nacosAddress}.");
            }

            _nacos = new NacosOpenApi(nacosAddress, options.UserName, options.Password, emulator);
            await _nacos.PublishConfigAsync("common-config.yaml", CommonConfig, cancellationToken);
            await _nacos.PublishConfigAsync("gateway-app.yaml", GatewayConfig(enabled: false), cancellationToken);
            output.WriteLine("Published common-config.yaml (prod V1, gray V2, FallbackToProd) and gateway-app.yaml (switch off).");
            output.WriteLine($"Logs of the applications: {logFolder}");

            var samples = SamplesLocator.Locate(options);
            foreach (var (service, version) in new[] { ("user-app", "V1"), ("user-app", "V2"), ("order-app", "V1"), ("order-app", "V2") })
            {
                var project = service == "user-app" ? "UserApp" : "OrderApp";
                await StartAsync($"{service}-{version}", samples.DllPath(project), AppArguments(nacosAddress, logFolder, version), cancellationToken);
            }

            await WaitForRegistrationAsync(cancellationToken);
            var gatewayAddress = await StartAsync("gateway", samples.DllPath("Gateway"), AppArguments(nacosAddress, logFolder, version: null), cancellationToken);
            _gateway = new HttpClient { BaseAddress = gatewayAddress, Timeout = TimeSpan.FromSeconds(15) };
            await WaitUntilAsync("the gateway routes to order-app", async () => (await GetOrderAsync(0, null, cancellationToken)).Succeeded, cancellationToken);
            output.WriteLine($"All up in {stopwatch.Elapsed.TotalSeconds:F1} s. Gateway: {gatewayAddress}");

            var reports = new List<ScenarioReport>
            {
                await SwitchOffMixesVersionsAsync(cancellationToken),
                await SwitchOnStaysOnProdAsync(cancellationToken),
                await HeaderRuleGoesGrayAsync(cancellationToken),
                await SwitchFlipsLiveAsync(cancellationToken),
                await PercentageCanaryAsync(cancellationToken),
                await GrayInstanceStoppedAsync(cancellationToken),
            };
            Reports = reports;

            output.WriteLine();
            var passed = reports.Count(r => r.Passed);
            output.WriteLine($"{passed} of {reports.Count} scenarios passed in {stopwatch.Elapsed.TotalSeconds:F1} s.");

            if (options.KeepRunning)
            {
                PrintTryItYourself(gatewayAddress, nacosAddress);
                await Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }

            return passed == reports.Count ? 0 : 1;
        }
        finally
        {
            _gateway?.Dispose();
            _nacos?.Dispose();
            output.WriteLine("Stopping the applications...");
            foreach (var process in Enumerable.Reverse(_processes))
            {
                await process.DisposeAsync();
            }

            if (emulator is not null)
            {
                await emulator.DisposeAsync();
            }

            output.WriteLine("Stopped.");
        }
    }

    private async Task<ScenarioReport> SwitchOffMixesVersionsAsync(CancellationToken cancellationToken)
    {
        var hops = await SendAsync(16, null, cancellationToken);
        var orders = hops.Select(h => h.OrderVersion).ToHashSet();
        var users = hops.Select(h => h.UserVersion).ToHashSet();
        var passed = hops.All(h => h.Succeeded) && orders.SetEquals(["V1", "V2"]) && users.SetEquals(["V1", "V2"]);
        return Report(1, "gray switch off → any version on every hop", passed,
            $"order versions seen: {Join(orders)}; user versions seen: {Join(users)} (both V1 and V2 expected)", hops);
    }

    private async Task<ScenarioReport> SwitchOnStaysOnProdAsync(CancellationToken cancellationToken)
    {
        await _nacos.PublishConfigAsync("gateway-app.yaml", GatewayConfig(enabled: true), cancellationToken);
        await WaitUntilAsync("the gateway applies switch on", () => GrayHeaderRoutesToGrayAsync(cancellationToken), cancellationToken);
        var hops = await SendAsync(12, null, cancellationToken);
        var passed = hops.All(h => h.Succeeded && h.Path == "V1→V1");
        return Report(2, "switch on, no rule matches → production only", passed, $"paths: {Paths(hops)} (only V1→V1 expected)", hops);
    }

    private async Task<ScenarioReport> HeaderRuleGoesGrayAsync(CancellationToken cancellationToken)
    {
        var hops = await SendAsync(12, Header("gray", "gray-996"), cancellationToken);
        var spoofed = await SendAsync(4, Header("gray", "GRAY"), cancellationToken);
        var passed = hops.All(h => h.Succeeded && h.Path == "V2→V2") && spoofed.All(h => h.Succeeded && h.Path == "V1→V1");
        return Report(3, "header gray: gray-996 → gray only (a client's own 'gray: GRAY' is ignored)", passed,
            $"gray-996: {Paths(hops)} (only V2→V2 expected); spoofed GRAY: {Paths(spoofed)} (only V1→V1 expected)", [.. hops, .. spoofed]);
    }

    private async Task<ScenarioReport> SwitchFlipsLiveAsync(CancellationToken cancellationToken)
    {
        var off = Stopwatch.StartNew();
        await _nacos.PublishConfigAsync("gateway-app.yaml", GatewayConfig(enabled: false), cancellationToken);
        var offSeen = await TryWaitUntilAsync(async () => (await GetOrderAsync(0, null, cancellationToken)).OrderVersion == "V2", cancellationToken);
        var offAfter = off.Elapsed;

        var on = Stopwatch.StartNew();
        await _nacos.PublishConfigAsync("gateway-app.yaml", GatewayConfig(enabled: true), cancellationToken);
        var onSeen = await TryWaitUntilAsync(() => GrayHeaderRoutesToGrayAsync(cancellationToken), cancellationToken);
        var onAfter = on.Elapsed;
        var hops = await SendAsync(8, null, cancellationToken);

        var passed = offSeen && onSeen && hops.All(h => h.Succeeded && h.Path == "V1→V1");
        return Report(4, "switch flipped in Nacos config while running, no restart", passed,
            $"off applied after {Seconds(offAfter, offSeen)}, on again after {Seconds(onAfter, onSeen)}; then {Paths(hops)} (only V1→V1 expected)", hops);
    }

    private async Task<ScenarioReport> PercentageCanaryAsync(CancellationToken cancellationToken)
    {
        const double percentage = 30;
        const int users = 200;
        await _nacos.PublishConfigAsync("gateway-app.yaml", GatewayConfig(enabled: true, percentage), cancellationToken);
        await WaitUntilAsync("the gateway applies the 30 % canary", async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                if ((await GetOrderAsync(i, Header("X-User-Id", $"user-{i}"), cancellationToken)).OrderVersion == "V2")
                {
                    return true;
                }
            }

            return false;
        }, cancellationToken);

        var hops = new List<Hop>();
        var sticky = 0;
        var gray = 0;
        for (var i = 0; i < users; i++)
        {
            var first = await GetOrderAsync(i, Header("X-User-Id", $"user-{i}"), cancellationToken);
            var second = await GetOrderAsync(i, Header("X-User-Id", $"user-{i}"), cancellationToken);
            hops.Add(first);
            hops.Add(second);
            sticky += first.Path == second.Path ? 1 : 0;
            gray += first.Path == "V2→V2" ? 1 : 0;
        }

        await _nacos.PublishConfigAsync("gateway-app.yaml", GatewayConfig(enabled: true), cancellationToken);
        var share = 100.0 * gray / users;
        var consistent = hops.All(h => h.Succeeded && (h.Path == "V1→V1" || h.Path == "V2→V2"));
        var passed = consistent && sticky == users && Math.Abs(share - percentage) <= 10;
        return Report(5, $"percentage canary {percentage} % by X-User-Id, sticky", passed,
            $"{gray} of {users} users gray = {share:F1} % (setting {percentage} %, ±10 points allowed for {users} users); sticky {sticky}/{users}; every path V1→V1 or V2→V2: {consistent}",
            hops);
    }

    private async Task<ScenarioReport> GrayInstanceStoppedAsync(CancellationToken cancellationToken)
    {
        var stopped = _byName["user-app-V2"];
        var watch = Stopwatch.StartNew();
        await stopped.StopGracefullyAsync(TimeSpan.FromSeconds(15));
        var followed = await TryWaitUntilAsync(async () => (await GetOrderAsync(0, Header("gray", "gray-996"), cancellationToken)).Path == "V2→V1", cancellationToken);
        var after = watch.Elapsed;
        var hops = await SendAsync(10, Header("gray", "gray-996"), cancellationToken);
        var passed = followed && hops.All(h => h.Succeeded && h.Path == "V2→V1");
        return Report(6, "gray user-app stopped → gray traffic follows NoInstancePolicy (FallbackToProd)", passed,
            $"user-app V2 deregistered on SIGTERM; fallback seen after {Seconds(after, followed)}; then {Paths(hops)} (only V2→V1 expected, no failures)", hops);
    }

    /// <summary>
    /// Whether the switch is on, judged without doubt: with the switch off (ALL) round-robin alternates order-app's
    /// versions, so four gray-996 requests in a row all reaching V2 → V2 can only mean the header rule is live.
    /// </summary>
    private async Task<bool> GrayHeaderRoutesToGrayAsync(CancellationToken cancellationToken)
    {
        for (var i = 0; i < 4; i++)
        {
            if ((await GetOrderAsync(0, Header("gray", "gray-996"), cancellationToken)).Path != "V2→V2")
            {
                return false;
            }
        }

        return true;
    }

    private ScenarioReport Report(int number, string title, bool passed, string verdict, IReadOnlyList<Hop> hops)
    {
        var report = new ScenarioReport(number, title, passed, verdict, hops);
        report.WriteTo(output);
        return report;
    }

    private async Task<Uri> StartAsync(string name, string dllPath, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        output.Write($"  starting {name,-14} ... ");
        var process = SampleProcess.Start(name, dllPath, arguments, _logFolder);
        _processes.Add(process);
        _byName[name] = process;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var address = await process.WaitUntilListeningAsync(timeout.Token);
        output.WriteLine($"listening on {address} (pid {process.ProcessId})");
        return address;
    }

    private IEnumerable<string> AppArguments(string nacosAddress, string logFolder, string? version)
    {
        yield return "--urls";
        yield return "http://127.0.0.1:0";
        yield return $"--nacos:ServerAddresses:0={nacosAddress}";
        yield return $"--nacos:SnapshotPath={Path.Combine(logFolder, "snapshots")}";
        yield return "--nacos:DrainDelay=00:00:01";
        if (version is not null)
        {
            yield return $"--GrayRelease:Version={version}";
        }

        if (!string.IsNullOrEmpty(options.UserName))
        {
            yield return $"--nacos:UserName={options.UserName}";
            yield return $"--nacos:Password={options.Password}";
        }
    }

    private async Task WaitForRegistrationAsync(CancellationToken cancellationToken)
    {
        output.Write("  waiting until order-app and user-app V1 + V2 are registered ... ");
        await WaitUntilAsync("order-app and user-app V1 + V2 registered in Nacos", async () =>
        {
            foreach (var service in RegisteredServices)
            {
                var versions = (await _nacos.ListAsync(service, cancellationToken)).Select(i => i.Version).ToHashSet();
                if (!versions.IsSupersetOf(["V1", "V2"]))
                {
                    return false;
                }
            }

            return true;
        }, cancellationToken);
        output.WriteLine("done");
    }

    private async Task<List<Hop>> SendAsync(int count, KeyValuePair<string, string>? header, CancellationToken cancellationToken)
    {
        var hops = new List<Hop>(count);
        for (var i = 1; i <= count; i++)
        {
            hops.Add(await GetOrderAsync(i, header, cancellationToken));
        }

        return hops;
    }

    private async Task<Hop> GetOrderAsync(int id, KeyValuePair<string, string>? header, CancellationToken cancellationToken)
    {
        var label = $"GET /order/orders/{id}" + (header is { } h ? $" {h.Key}: {h.Value}" : "");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/order/orders/{id}");
        if (header is { } extra)
        {
            request.Headers.TryAddWithoutValidation(extra.Key, extra.Value);
        }

        try
        {
            using var response = await _gateway.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return new Hop(label, (int)response.StatusCode, "-", "-");
            }

            using var body = await response.Content.ReadFromJsonAsync<JsonDocument>(cancellationToken);
            var root = body!.RootElement;
            var order = root.GetProperty("servedBy").GetProperty("version").GetString() ?? "?";
            var user = root.GetProperty("user").GetProperty("servedBy").GetProperty("version").GetString() ?? "?";
            return new Hop(label, 200, order, user);
        }
        catch (HttpRequestException exception)
        {
            return new Hop(label, 0, "-", exception.HttpRequestError.ToString());
        }
    }

    private static async Task WaitUntilAsync(string what, Func<Task<bool>> condition, CancellationToken cancellationToken)
    {
        if (!await TryWaitUntilAsync(condition, cancellationToken))
        {
            throw new TimeoutException($"Timed out after {ChangeDeadline.TotalSeconds:F0} s waiting until {what}.");
        }
    }

    private static async Task<bool> TryWaitUntilAsync(Func<Task<bool>> condition, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < ChangeDeadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }

        return false;
    }

    private void PrintTryItYourself(Uri gateway, string nacos)
    {
        var g = gateway.ToString().TrimEnd('/');
        output.WriteLine();
        output.WriteLine("Everything keeps running; Ctrl+C stops it. Try:");
        output.WriteLine($"  curl {g}/order/orders/1                              # production: V1 → V1");
        output.WriteLine($"  curl -H 'gray: gray-996' {g}/order/orders/1          # gray: V2 → V2 (user-app V2 was stopped by scenario 6: V2 → V1)");
        output.WriteLine($"  curl -H 'X-User-Id: alice' {g}/order/orders/1        # with a Percentage set, alice always gets the same version");
        output.WriteLine($"  curl -X POST '{nacos}/nacos/v1/cs/configs' -d dataId=gateway-app.yaml -d group=DEFAULT_GROUP -d type=yaml --data-urlencode 'content=GrayRelease:{{Gateway:{{Enabled: false}}}}'");
        output.WriteLine($"  curl '{nacos}/nacos/v1/ns/instance/list?serviceName=user-app'");
    }

    private static KeyValuePair<string, string> Header(string name, string value) => new(name, value);

    private static string Join(IEnumerable<string> values) => string.Join(", ", values.Order(StringComparer.Ordinal));

    private static string Paths(IEnumerable<Hop> hops) =>
        string.Join(", ", hops.GroupBy(h => h.Succeeded ? h.Path : $"HTTP {h.Status}").OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} ×{g.Count()}"));

    private static string Seconds(TimeSpan elapsed, bool seen) => seen ? $"{elapsed.TotalSeconds:F1} s" : $"never (gave up after {ChangeDeadline.TotalSeconds:F0} s)";
}
