using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using GrayRelease.Nacos.Emulator;

namespace GrayRelease.Demo;

/// <summary>
/// Starts Nacos (the emulator, or uses a real server), publishes the configs, starts gateway + order-app V1/V2 +
/// user-app V1/V2 as processes, runs the six gray scenarios through the gateway, then starts instances in two lanes and
/// runs the three lane scenarios, then (default profile) the two rollouts, and stops everything it started. Scenarios 1
/// to 9 check both ways order-app calls user-app: REST (<c>/orders/{id}</c>) and gRPC (<c>/orders/{id}/grpc</c>).
/// </summary>
#pragma warning disable CA1001 // _gateway and _nacos live for one RunAsync call, which disposes them in its finally block.
internal sealed partial class DemoRunner(DemoOptions options, TextWriter output)
#pragma warning restore CA1001
{
    internal const string CommonConfig = """
        GrayRelease:
          ProdVersion: V1
          GrayVersion: V2
          NoInstancePolicy: FallbackToProd
        """;

    /// <summary>A developer's sandbox: only user-app runs in it; entered by user id (<c>X-User-Id: dev-alice</c>).</summary>
    internal const string LaneA = "feature-a";

    /// <summary>A feature across two services: order-app and user-app run in it; entered by the header <c>x-lane: feature-b</c>.</summary>
    internal const string LaneB = "feature-b";

    /// <summary>Version of the lane instances: a build neither prod nor gray, so a lane hop is told apart by what served it.</summary>
    internal const string LaneVersion = "V3";

    /// <summary><see cref="CommonConfig"/> with lane feature-b made strict: no fallback to the baseline.</summary>
    internal const string CommonConfigStrictLaneB = CommonConfig + """

          Lanes:
            feature-b:
              Mode: Strict
        """;

    private static readonly TimeSpan ChangeDeadline = TimeSpan.FromSeconds(30);
    // user-app publishes its gRPC port in its one registration (metadata gRPC_port; samples/UserApp/GrpcHost.cs).
    private static readonly string[] RegisteredServices = ["order-app", "user-app"];
    private readonly List<SampleProcess> _processes = [];
    private readonly Dictionary<string, SampleProcess> _byName = [];
    private HttpClient _gateway = null!;
    private NacosOpenApi _nacos = null!;
    private string _logFolder = Path.GetTempPath();

    internal static string GatewayConfig(bool enabled, double percentage = 0, bool lanes = false, bool rollout = false) => $"""
        GrayRelease:
          Gateway:
            Enabled: {(enabled ? "true" : "false")}
            HeaderName: gray
            HeaderValue: gray-996
            IpList: [ "10.255.255.0/24" ]
            UserIdHeader: X-User-Id
            Percentage: {percentage.ToString(CultureInfo.InvariantCulture)}
        """ + (lanes ? LaneRules : "") + (rollout ? RolloutRules : "");

    // The gateway's lane entry rules: lane A by user id (a developer's own requests), lane B by a header.
    private const string LaneRules = """

            Lanes:
              feature-a:
                Priority: 10
                UserIdList: [ "dev-alice" ]
              feature-b:
                Priority: 20
                HeaderName: x-lane
                HeaderValue: feature-b
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

            var samples = SamplesLocator.Locate(options.SamplesRoot, options.Configuration);
            foreach (var (service, version) in new[] { ("user-app", "V1"), ("user-app", "V2"), ("order-app", "V1"), ("order-app", "V2") })
            {
                var project = service == "user-app" ? "UserApp" : "OrderApp";
                await StartAsync($"{service}-{version}", samples.DllPath(project), AppArguments(nacosAddress, logFolder, version), cancellationToken);
            }

            await WaitForRegistrationAsync(cancellationToken);
            var gatewayAddress = await StartAsync("gateway", samples.DllPath("Gateway"), AppArguments(nacosAddress, logFolder, version: null), cancellationToken);
            _gateway = new HttpClient { BaseAddress = gatewayAddress, Timeout = TimeSpan.FromSeconds(15) };
            // Two gRPC requests: the gateway round-robins them to both order-apps, whose gRPC channels then know user-app.
            await WaitUntilAsync("the gateway routes to order-app, and order-app reaches user-app over REST and gRPC", async () =>
                (await GetOrderAsync(0, null, cancellationToken)).Succeeded
                && (await GetOrderAsync(0, null, cancellationToken, grpc: true)).Succeeded
                && (await GetOrderAsync(0, null, cancellationToken, grpc: true)).Succeeded, cancellationToken);
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

            await StartLanesAsync(samples, nacosAddress, logFolder, cancellationToken);
            reports.Add(await TwoLanesAtOnceAsync(cancellationToken));
            reports.Add(await TrafficWithoutALaneStaysOutAsync(cancellationToken));
            reports.Add(await LaneInstanceStoppedAsync(cancellationToken));

            if (RunsRollouts)
            {
                var rollouts = Stopwatch.StartNew();
                await StartRolloutInstancesAsync(samples, nacosAddress, logFolder, cancellationToken);
                reports.Add(await HealthyCanaryPromotedAsync(cancellationToken));
                reports.Add(await BadCanaryRolledBackAsync(cancellationToken));
                output.WriteLine();
                output.WriteLine($"The rollout scenarios took {rollouts.Elapsed.TotalSeconds:F1} s (instances started and warmed up, two rollouts, checks).");
            }
            else
            {
                output.WriteLine();
                output.WriteLine("Rollout scenarios 10 and 11 run on the default profile only (--profile nacos-3.2), to keep the demo short.");
            }

            output.WriteLine();
            var passed = reports.Count(r => r.Passed);
            output.WriteLine($"{passed} of {reports.Count} scenarios passed in {stopwatch.Elapsed.TotalSeconds:F1} s (scenarios 1–9 with order-app calling user-app over REST and over gRPC).");

            if (options.KeepRunning)
            {
                PrintTryItYourself(gatewayAddress, nacosAddress, rolledOut: RunsRollouts);
                await Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }

            return passed == reports.Count ? 0 : 1;
        }
        finally
        {
            if (_traffic is not null)
            {
                await _traffic.DisposeAsync();
            }

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
        var rest = hops.Where(h => !h.Grpc).ToList();
        var grpc = hops.Where(h => h.Grpc).ToList();
        var passed = hops.All(h => h.Succeeded) && BothVersions(rest) && BothVersions(grpc);
        return Report(1, "gray switch off → any version on every hop", passed,
            $"REST: order versions seen: {Join(rest.Select(h => h.OrderVersion))}, user versions seen: {Join(rest.Select(h => h.UserVersion))}; "
            + $"gRPC: order versions seen: {Join(grpc.Select(h => h.OrderVersion))}, user versions seen: {Join(grpc.Select(h => h.UserVersion))} (both V1 and V2 expected on each)", hops);

        static bool BothVersions(List<Hop> some) =>
            some.Select(h => h.OrderVersion).ToHashSet().SetEquals(["V1", "V2"]) && some.Select(h => h.UserVersion).ToHashSet().SetEquals(["V1", "V2"]);
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
        var sameOverGrpc = 0;
        for (var i = 0; i < users; i++)
        {
            var first = await GetOrderAsync(i, Header("X-User-Id", $"user-{i}"), cancellationToken);
            var second = await GetOrderAsync(i, Header("X-User-Id", $"user-{i}"), cancellationToken);
            var overGrpc = await GetOrderAsync(i, Header("X-User-Id", $"user-{i}"), cancellationToken, grpc: true);
            hops.Add(first);
            hops.Add(second);
            hops.Add(overGrpc);
            sticky += first.Path == second.Path ? 1 : 0;
            sameOverGrpc += first.Path == overGrpc.Path ? 1 : 0;
            gray += first.Path == "V2→V2" ? 1 : 0;
        }

        await _nacos.PublishConfigAsync("gateway-app.yaml", GatewayConfig(enabled: true), cancellationToken);
        var share = 100.0 * gray / users;
        var consistent = hops.All(h => h.Succeeded && (h.Path == "V1→V1" || h.Path == "V2→V2"));
        var passed = consistent && sticky == users && sameOverGrpc == users && Math.Abs(share - percentage) <= 10;
        return Report(5, $"percentage canary {percentage} % by X-User-Id, sticky", passed,
            $"{gray} of {users} users gray = {share:F1} % (setting {percentage} %, ±10 points allowed for {users} users); sticky {sticky}/{users}; "
            + $"same path over gRPC as over REST {sameOverGrpc}/{users}; every path V1→V1 or V2→V2: {consistent}",
            hops);
    }

    private async Task<ScenarioReport> GrayInstanceStoppedAsync(CancellationToken cancellationToken)
    {
        var stopped = _byName["user-app-V2"];
        var watch = Stopwatch.StartNew();
        await stopped.StopGracefullyAsync(TimeSpan.FromSeconds(15));
        var followed = await TryWaitUntilAsync(async () =>
            (await GetOrderAsync(0, Header("gray", "gray-996"), cancellationToken)).Path == "V2→V1"
            && (await GetOrderAsync(0, Header("gray", "gray-996"), cancellationToken, grpc: true)).Path == "V2→V1", cancellationToken);
        var after = watch.Elapsed;
        var hops = await SendAsync(10, Header("gray", "gray-996"), cancellationToken);
        var passed = followed && hops.All(h => h.Succeeded && h.Path == "V2→V1");
        return Report(6, "gray user-app stopped → gray traffic follows NoInstancePolicy (FallbackToProd)", passed,
            $"user-app V2 deregistered on SIGTERM (one registration for REST and gRPC); fallback seen after {Seconds(after, followed)}; then {Paths(hops)} (only V2→V1 expected, no failures)", hops);
    }

    /// <summary>
    /// Starts the lane instances (all at once, to keep the demo short) and publishes the gateway's lane rules: lane A
    /// has only user-app, lane B has order-app and user-app; every other hop of a lane's request uses the baseline.
    /// </summary>
    private async Task StartLanesAsync(SamplesLocator samples, string nacosAddress, string logFolder, CancellationToken cancellationToken)
    {
        output.WriteLine();
        output.WriteLine($"Lanes: {LaneA} = user-app only (entered with X-User-Id: dev-alice), {LaneB} = order-app + user-app (entered with x-lane: {LaneB}); lane instances run {LaneVersion}.");
        var lanes = new[] { ("user-app", LaneA), ("order-app", LaneB), ("user-app", LaneB) };
        var started = new List<SampleProcess>();
        foreach (var (service, lane) in lanes)
        {
            var project = service == "user-app" ? "UserApp" : "OrderApp";
            var name = $"{service}-{lane}";
            var process = SampleProcess.Start(name, samples.DllPath(project), AppArguments(nacosAddress, logFolder, LaneVersion, lane), _logFolder);
            _processes.Add(process);
            _byName[name] = process;
            started.Add(process);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        foreach (var process in started)
        {
            var address = await process.WaitUntilListeningAsync(timeout.Token);
            output.WriteLine($"  started  {process.Name,-19} listening on {address} (pid {process.ProcessId})");
        }

        output.Write("  waiting until the lane instances are registered ... ");
        await WaitUntilAsync("the lane instances registered in Nacos", async () =>
        {
            var users = (await _nacos.ListAsync("user-app", cancellationToken)).Select(i => i.Lane).ToHashSet();
            var orders = (await _nacos.ListAsync("order-app", cancellationToken)).Select(i => i.Lane).ToHashSet();
            return users.IsSupersetOf([LaneA, LaneB]) && orders.Contains(LaneB);
        }, cancellationToken);
        output.WriteLine("done");

        await _nacos.PublishConfigAsync("gateway-app.yaml", GatewayConfig(enabled: true, lanes: true), cancellationToken);
        output.WriteLine("Published gateway-app.yaml with the lane entry rules.");
        // Every order-app instance a lane request can reach (V1 for PROD, V2 for GRAY, the lane's own) must know the lane's
        // user-app first: each learns of new instances by its own push or poll.
        await WaitUntilAsync("the gateway and every order-app route both lanes, over REST and gRPC",
            async () => await RoutesBothLanesAsync(grpc: false) && await RoutesBothLanesAsync(grpc: true), cancellationToken);

        async Task<bool> RoutesBothLanesAsync(bool grpc) =>
            (await GetOrderWithHeadersAsync(0, [Header("X-User-Id", "dev-alice")], cancellationToken, grpc)).UserLane == LaneA
            && (await GetOrderWithHeadersAsync(0, [Header("X-User-Id", "dev-alice"), Header("gray", "gray-996")], cancellationToken, grpc)).UserLane == LaneA
            && (await GetOrderWithHeadersAsync(0, [Header("x-lane", LaneB)], cancellationToken, grpc)).Path == $"{LaneB}→{LaneB}";
    }

    private async Task<ScenarioReport> TwoLanesAtOnceAsync(CancellationToken cancellationToken)
    {
        var alice = await SendWithHeadersAsync(4, [Header("X-User-Id", "dev-alice")], cancellationToken);
        var aliceGray = await SendWithHeadersAsync(2, [Header("X-User-Id", "dev-alice"), Header("gray", "gray-996")], cancellationToken);
        var laneB = await SendWithHeadersAsync(4, [Header("x-lane", LaneB)], cancellationToken);
        var laneBGray = await SendWithHeadersAsync(2, [Header("x-lane", LaneB), Header("gray", "gray-996")], cancellationToken);
        var passed = alice.All(h => h.Succeeded && h.Path == $"V1→{LaneA}")
            && aliceGray.All(h => h.Succeeded && h.Path == $"V2→{LaneA}")
            && laneB.Concat(laneBGray).All(h => h.Succeeded && h.Path == $"{LaneB}→{LaneB}");
        return Report(7, $"two lanes at once: {LaneA} (user-app only) and {LaneB} (order-app + user-app)", passed,
            $"{LaneA}: {Paths(alice)} (order-app has no {LaneA} instance: the baseline serves it, then user-app re-enters the lane, permissive); "
            + $"{LaneA} + gray-996: {Paths(aliceGray)} (GRAY and in a lane); {LaneB}: {Paths([.. laneB, .. laneBGray])} (only {LaneB}→{LaneB} expected, with or without gray-996)",
            [.. alice, .. aliceGray, .. laneB, .. laneBGray], showLanes: true);
    }

    private async Task<ScenarioReport> TrafficWithoutALaneStaysOutAsync(CancellationToken cancellationToken)
    {
        var plain = await SendWithHeadersAsync(6, [], cancellationToken);
        var forged = await SendWithHeadersAsync(2, [Header("gray-lane", LaneB)], cancellationToken);
        var otherUser = await SendWithHeadersAsync(2, [Header("X-User-Id", "dev-bob")], cancellationToken);
        var gray = await SendWithHeadersAsync(2, [Header("gray", "gray-996")], cancellationToken);
        var production = plain.Concat(forged).Concat(otherUser).ToList();
        var passed = production.All(h => h.Succeeded && h.Path == "V1→V1") && gray.All(h => h.Succeeded && h.Path == "V2→V1");
        return Report(8, "traffic in no lane never reaches a lane instance (a client's own gray-lane header is discarded)", passed,
            $"no lane rule matched: {Paths(production)} (only V1→V1 expected, although user-app has instances in {LaneA} and {LaneB}); "
            + $"gray-996: {Paths(gray)} (V2→V1: the gray user-app is stopped, FallbackToProd picks the baseline's V1, never a lane)",
            [.. plain, .. forged, .. otherUser, .. gray], showLanes: true);
    }

    private async Task<ScenarioReport> LaneInstanceStoppedAsync(CancellationToken cancellationToken)
    {
        var stopped = _byName[$"user-app-{LaneB}"];
        var watch = Stopwatch.StartNew();
        await stopped.StopGracefullyAsync(TimeSpan.FromSeconds(15));
        var fellBack = await TryWaitUntilAsync(async () =>
            (await GetOrderWithHeadersAsync(0, [Header("x-lane", LaneB)], cancellationToken)).Path == $"{LaneB}→V1"
            && (await GetOrderWithHeadersAsync(0, [Header("x-lane", LaneB)], cancellationToken, grpc: true)).Path == $"{LaneB}→V1", cancellationToken);
        var fellBackAfter = watch.Elapsed;
        var permissive = await SendWithHeadersAsync(4, [Header("x-lane", LaneB)], cancellationToken);

        watch.Restart();
        await _nacos.PublishConfigAsync("common-config.yaml", CommonConfigStrictLaneB, cancellationToken);
        var strictSeen = await TryWaitUntilAsync(async () =>
            (await GetOrderWithHeadersAsync(0, [Header("x-lane", LaneB)], cancellationToken)).Status == 503
            && (await GetOrderWithHeadersAsync(0, [Header("x-lane", LaneB)], cancellationToken, grpc: true)).Status == 503, cancellationToken);
        var strictAfter = watch.Elapsed;
        var strict = await SendWithHeadersAsync(4, [Header("x-lane", LaneB)], cancellationToken);
        var laneA = await SendWithHeadersAsync(2, [Header("X-User-Id", "dev-alice")], cancellationToken);

        var detail = strict.FirstOrDefault(h => !h.Grpc && h.Detail is not null)?.Detail ?? "none";
        var grpcDetail = strict.FirstOrDefault(h => h.Grpc && h.Detail is not null)?.Detail ?? "none";
        var passed = fellBack && strictSeen
            && permissive.All(h => h.Succeeded && h.Path == $"{LaneB}→V1")
            && strict.All(h => h.Status == 503 && h.Detail?.Contains($"strict lane '{LaneB}'", StringComparison.Ordinal) == true && h.Detail.Contains("user-app", StringComparison.Ordinal))
            && laneA.All(h => h.Succeeded && h.Path == $"V1→{LaneA}");
        return Report(9, $"{LaneB}'s user-app stopped → permissive: the baseline; then {LaneB} made Strict in Nacos config → the no-instance answer", passed,
            $"permissive fallback seen after {Seconds(fellBackAfter, fellBack)}: {Paths(permissive)} (only {LaneB}→V1 expected); "
            + $"strict applied after {Seconds(strictAfter, strictSeen)}: {Paths(strict)} (only HTTP 503 expected), answer: \"{detail}\", over gRPC: \"{grpcDetail}\"; "
            + $"{LaneA} meanwhile: {Paths(laneA)} (V1→{LaneA})",
            [.. permissive, .. strict, .. laneA], showLanes: true);
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

    private ScenarioReport Report(int number, string title, bool passed, string verdict, IReadOnlyList<Hop> hops, bool showLanes = false, IReadOnlyList<string>? timeline = null)
    {
        var report = new ScenarioReport(number, title, passed, verdict, hops, showLanes, timeline);
        report.WriteTo(output, maxRows: showLanes ? 16 : 12);
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

    private IEnumerable<string> AppArguments(string nacosAddress, string logFolder, string? version, string? lane = null)
    {
        yield return "--urls";
        yield return "http://127.0.0.1:0";

        // user-app's gRPC endpoint (read by user-app only), published as gRPC_port metadata of its user-app registration.
        yield return "--Grpc:Url=http://127.0.0.1:0";
        yield return $"--nacos:ServerAddresses:0={nacosAddress}";
        yield return $"--nacos:SnapshotPath={Path.Combine(logFolder, "snapshots")}";
        yield return "--nacos:DrainDelay=00:00:01";
        if (version is not null)
        {
            yield return $"--GrayRelease:Version={version}";
        }

        if (lane is not null)
        {
            yield return $"--GrayRelease:Lane={lane}";
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

    private Task<List<Hop>> SendAsync(int count, KeyValuePair<string, string>? header, CancellationToken cancellationToken) =>
        SendWithHeadersAsync(count, header is { } one ? [one] : [], cancellationToken);

    /// <summary>Sends <paramref name="count"/> requests each way order-app calls user-app, REST and gRPC in turn.</summary>
    private async Task<List<Hop>> SendWithHeadersAsync(int count, KeyValuePair<string, string>[] headers, CancellationToken cancellationToken)
    {
        var hops = new List<Hop>(2 * count);
        for (var i = 1; i <= count; i++)
        {
            // REST, gRPC, then gRPC, REST: the gateway alternates order-app's instances, and a strict REST/gRPC alternation
            // would send every REST request to one of them and every gRPC request to the other.
            var grpcFirst = i % 2 == 0;
            hops.Add(await GetOrderWithHeadersAsync(i, headers, cancellationToken, grpc: grpcFirst));
            hops.Add(await GetOrderWithHeadersAsync(i, headers, cancellationToken, grpc: !grpcFirst));
        }

        return hops;
    }

    private Task<Hop> GetOrderAsync(int id, KeyValuePair<string, string>? header, CancellationToken cancellationToken, bool grpc = false) =>
        GetOrderWithHeadersAsync(id, header is { } one ? [one] : [], cancellationToken, grpc);

    /// <param name="grpc">Ask order-app to call user-app over gRPC (<c>/orders/{id}/grpc</c>) instead of REST.</param>
    private async Task<Hop> GetOrderWithHeadersAsync(int id, KeyValuePair<string, string>[] headers, CancellationToken cancellationToken, bool grpc = false)
    {
        var path = grpc ? $"/order/orders/{id}/grpc" : $"/order/orders/{id}";
        var label = $"GET {path}" + (headers.Length > 0 ? " " + string.Join(", ", headers.Select(h => $"{h.Key}: {h.Value}")) : "");
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var extra in headers)
        {
            request.Headers.TryAddWithoutValidation(extra.Key, extra.Value);
        }

        try
        {
            using var response = await _gateway.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return new Hop(label, (int)response.StatusCode, "-", "-", Detail: await ReadProblemDetailAsync(response, cancellationToken), Grpc: grpc);
            }

            using var body = await response.Content.ReadFromJsonAsync<JsonDocument>(cancellationToken);
            var root = body!.RootElement;
            var order = root.GetProperty("servedBy");
            var user = root.GetProperty("user").GetProperty("servedBy");
            return new Hop(label, 200, order.GetProperty("version").GetString() ?? "?", user.GetProperty("version").GetString() ?? "?", LaneOf(order), LaneOf(user), Grpc: grpc);
        }
        catch (HttpRequestException exception)
        {
            return new Hop(label, 0, "-", exception.HttpRequestError.ToString(), Grpc: grpc);
        }
    }

    private static string? LaneOf(JsonElement servedBy) =>
        servedBy.TryGetProperty("lane", out var lane) && lane.ValueKind == JsonValueKind.String ? lane.GetString() : null;

    // A 503 for want of an instance is an RFC 7807 problem whose detail names the service, the lane and what exists.
    private static async Task<string?> ReadProblemDetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            using var problem = JsonDocument.Parse(text);
            return problem.RootElement.ValueKind == JsonValueKind.Object && problem.RootElement.TryGetProperty("detail", out var detail) ? detail.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
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

    private void PrintTryItYourself(Uri gateway, string nacos, bool rolledOut)
    {
        var g = gateway.ToString().TrimEnd('/');
        output.WriteLine();
        output.WriteLine($"Everything keeps running; Ctrl+C stops it. Gateway: {g}, operations page: {g}/_gray/, rollout endpoint: {g}{RolloutPath} (GET; POST pause | resume | abort | promote). Try:");
        if (rolledOut)
        {
            // After scenarios 10 and 11: V2 promoted and made prod, V3 rolled back to 0 % (header rules still reach it).
            output.WriteLine($"  curl {g}/order/orders/1                              # production: V2 → V2 (V2 was promoted by scenario 10)");
            output.WriteLine($"  curl {g}/order/orders/1/grpc                         # the same, order-app calling user-app over gRPC");
            output.WriteLine($"  curl -H 'gray: gray-996' {g}/user/users/1            # gray: user-app V3, the rolled-back bad canary (about 1 in 10 fails)");
            output.WriteLine($"  curl -H 'X-User-Id: dev-alice' {g}/order/orders/1    # lane {LaneA}: order-app V2 (baseline) → user-app in {LaneA}");
            output.WriteLine($"  curl {g}{RolloutPath}                       # the rollout as JSON: status, step, last verdict with its figures, history");
            output.WriteLine($"  curl -X POST {g}{RolloutPath}/promote               # or pause | resume | abort: every gateway follows the state in Nacos");
        }
        else
        {
            output.WriteLine($"  curl {g}/order/orders/1                              # production: V1 → V1");
            output.WriteLine($"  curl -H 'gray: gray-996' {g}/order/orders/1/grpc     # gray, order-app calling user-app over gRPC: V2 → V1 as well");
            output.WriteLine($"  curl -H 'gray: gray-996' {g}/order/orders/1          # gray: V2 → V2 (user-app V2 was stopped by scenario 6: V2 → V1)");
            output.WriteLine($"  curl -H 'X-User-Id: alice' {g}/order/orders/1        # with a Percentage set, alice always gets the same version");
            output.WriteLine($"  curl -H 'X-User-Id: dev-alice' {g}/order/orders/1    # lane {LaneA}: order-app V1 (baseline) → user-app in {LaneA}");
            output.WriteLine($"  curl -H 'x-lane: {LaneB}' {g}/order/orders/1      # lane {LaneB}: order-app in {LaneB} → 503 (its user-app was stopped, the lane is strict)");
            output.WriteLine($"  curl {g}{RolloutPath}                       # the rollout endpoint (the rollout is off here: Enabled false)");
        }

        output.WriteLine($"  curl -X POST '{nacos}/nacos/v1/cs/configs' -d dataId=gateway-app.yaml -d group=DEFAULT_GROUP -d type=yaml --data-urlencode 'content=GrayRelease:{{Gateway:{{Enabled: false}}}}'");
        output.WriteLine($"  curl '{nacos}/nacos/v1/ns/instance/list?serviceName=user-app'");
    }

    private static KeyValuePair<string, string> Header(string name, string value) => new(name, value);

    private static string Join(IEnumerable<string> values) => string.Join(", ", values.Distinct().Order(StringComparer.Ordinal));

    private static string Paths(IEnumerable<Hop> hops) => Hop.Summarize(hops);

    private static string Seconds(TimeSpan elapsed, bool seen) => seen ? $"{elapsed.TotalSeconds:F1} s" : $"never (gave up after {ChangeDeadline.TotalSeconds:F0} s)";
}
