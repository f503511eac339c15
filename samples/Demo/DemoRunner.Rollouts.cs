using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GrayRelease.Nacos.Emulator;

namespace GrayRelease.Demo;

/// <summary>
/// Scenarios 10 and 11: the gateway ramps a canary by itself (GrayRelease.Rollouts) while the demo drives user traffic
/// through it. Intervals are compressed to half a second; a real rollout judges every minute or so.
/// </summary>
internal sealed partial class DemoRunner
{
    /// <summary>The rollout's status and control endpoint the sample gateway maps.</summary>
    internal const string RolloutPath = "/_gray/rollout";

    internal static readonly TimeSpan RolloutInterval = TimeSpan.FromMilliseconds(500);

    internal const int RolloutFailureThreshold = 2;

    internal const int RolloutMinRequestsPerSide = 10;

    /// <summary>Share of requests the bad canary fails on purpose (user-app's demo switch <c>Demo:FailureRate</c>).</summary>
    internal const double BadCanaryFailureRate = 0.1;

    private static readonly TimeSpan RolloutDeadline = TimeSpan.FromSeconds(60);

    // Compressed for the demo: half-second intervals and a small sample per side. Promotion stops at 100 %: the demo then
    // makes V2 prod itself, as an operator would, before rolling out V3. The latency check is off here: on a loaded CI
    // machine one GC pause or scheduling stall in one process decides the p99 of a half-second window (a healthy V2 was
    // seen at 292 ms p99 against 4.9 ms for one interval); over a real interval (a minute) such stalls average out.
    // The demo's bad canary is bad by its errors.
    private static readonly string RolloutRules = $"""

            Rollout:
              Enabled: true
              Steps: [ 1, 5, 25, 50, 100 ]
              Interval: "{RolloutInterval.ToString("c", CultureInfo.InvariantCulture)}"
              MinRequestsPerSide: {RolloutMinRequestsPerSide}
              FailureThreshold: {RolloutFailureThreshold}
              LeaseDuration: "00:00:05"
              Checks:
                Latency: false
        """;

    private TrafficDriver? _traffic;

    /// <summary>The rollout scenarios run on the default server line (and a real server) only: the demo runs in CI on several.</summary>
    private bool RunsRollouts => options.Profile is null or NacosServerLine.Nacos32;

    /// <summary>user-app V2 again (scenario 6 stopped it) as the healthy canary, and V3 with the demo switch on as the bad one.</summary>
    private async Task StartRolloutInstancesAsync(SamplesLocator samples, string nacosAddress, string logFolder, CancellationToken cancellationToken)
    {
        output.WriteLine();
        output.WriteLine($"Rollouts: user-app V2 started again (healthy canary) and user-app V3 with --Demo:FailureRate={BadCanaryFailureRate.ToString(CultureInfo.InvariantCulture)} (bad canary, fails 10 % on purpose);");
        output.WriteLine($"  interval {RolloutInterval.TotalMilliseconds:F0} ms, {RolloutMinRequestsPerSide} requests per side, failure threshold {RolloutFailureThreshold}; the demo drives traffic to /user/users/{{id}}");
        output.WriteLine("  from 5,000 users (X-User-Id; the sticky percentage picks who goes gray) and, 1 request in 20, testers with gray: gray-996 (they reach the canary at every step).");
        var started = new List<(SampleProcess Process, string Version)>();
        foreach (var (version, extra) in new[] { ("V2", Array.Empty<string>()), ("V3", [$"--Demo:FailureRate={BadCanaryFailureRate.ToString(CultureInfo.InvariantCulture)}"]) })
        {
            var name = $"user-app-{version}-rollout";
            var process = SampleProcess.Start(name, samples.DllPath("UserApp"), [.. AppArguments(nacosAddress, logFolder, version), .. extra], _logFolder);
            _processes.Add(process);
            _byName[name] = process;
            started.Add((process, version));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        using var direct = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        foreach (var (process, _) in started)
        {
            var address = await process.WaitUntilListeningAsync(timeout.Token);
            output.WriteLine($"  started  {process.Name,-19} listening on {address} (pid {process.ProcessId})");
            // Warm it up (JIT, connection pools) before it is judged against a prod that has run for a while: a cold
            // start is not what the latency check should judge.
            for (var i = 0; i < 200; i++)
            {
                using var response = await direct.GetAsync(new Uri(address, $"/users/{i}"), timeout.Token);
            }
        }

        await WaitUntilAsync("the gateway routes gray requests to user-app V2", async () =>
            (await GetUserAsync(1, [Header("gray", "gray-996")], cancellationToken)).Version == "V2", cancellationToken);
        _traffic = TrafficDriver.Start(_gateway.BaseAddress!);
    }

    private async Task<ScenarioReport> HealthyCanaryPromotedAsync(CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        await _nacos.PublishConfigAsync("gateway-app.yaml", GatewayConfig(enabled: true, lanes: true, rollout: true), cancellationToken);
        _traffic!.Resume();
        var (final, timeline) = await FollowRolloutAsync("V2", watch, s => s.Status is "Promoted" or "RolledBack", cancellationToken);
        var took = watch.Elapsed;
        var percentages = final?.History.Where(h => h.To is "Progressing" or "Promoted").Select(h => h.Percentage).Distinct().ToList() ?? [];
        var plain = await SendUsersAsync(20, gray: false, cancellationToken);
        var passed = final is { Status: "Promoted", Percentage: 100 }
            && percentages.SequenceEqual([1.0, 5, 25, 50, 100])
            && plain.All(h => h.Succeeded && h.UserVersion == "V2");
        return Report(10, "healthy canary V2 ramped by the gateway itself: 1 → 5 → 25 → 50 → 100 %, promoted", passed,
            $"status {final?.Status ?? "none"} after {took.TotalSeconds:F1} s; percentages applied: {string.Join(" → ", percentages)} (1 → 5 → 25 → 50 → 100 expected); "
            + $"then every user: {UserVersions(plain)} (only V2 expected); {_traffic.Summary()}",
            plain, timeline: timeline);
    }

    private async Task<ScenarioReport> BadCanaryRolledBackAsync(CancellationToken cancellationToken)
    {
        // The operator's step after a promotion that stops at 100 %: V2 becomes prod, V3 the next gray version. The
        // leader starts a new rollout from the first step as soon as it sees the new gray version.
        _traffic!.Pause();
        var watch = Stopwatch.StartNew();
        await _nacos.PublishConfigAsync("common-config.yaml", CommonConfigStrictLaneB.Replace("ProdVersion: V1", "ProdVersion: V2", StringComparison.Ordinal).Replace("GrayVersion: V2", "GrayVersion: V3", StringComparison.Ordinal), cancellationToken);
        await WaitUntilAsync("the gateway starts the rollout of V3", async () =>
            await ReadRolloutAsync(cancellationToken) is { GrayVersion: "V3", Status: "Progressing" }, cancellationToken);
        _traffic.Resume();
        var (final, timeline) = await FollowRolloutAsync("V3", watch, s => s.Status is "Promoted" or "RolledBack", cancellationToken);
        var firstError = _traffic.FirstCanaryErrorAt;
        var rolledBackAt = final?.History.LastOrDefault(h => h.To == "RolledBack")?.At;
        _traffic.Pause();

        var target = (RolloutInterval * RolloutFailureThreshold) + TimeSpan.FromSeconds(1);
        var measured = firstError is { } first && rolledBackAt is { } back ? back - first : (TimeSpan?)null;
        var plain = await SendUsersAsync(20, gray: false, cancellationToken);
        var testers = await SendUsersAsync(10, gray: true, cancellationToken);
        var passed = final is { Status: "RolledBack", Percentage: 0 }
            && measured is not null
            && plain.All(h => h.Succeeded && h.UserVersion == "V2")
            && testers.Any(h => h.Succeeded) && testers.All(h => !h.Succeeded || h.UserVersion == "V3");
        timeline.Add(measured is { } m
            ? $"time from the bad canary's first error to rollback: {m.TotalSeconds:F2} s (target: interval × threshold + ≤ 1 s = {target.TotalSeconds:F1} s: {(m <= target ? "met" : "missed")})"
            : "time from the bad canary's first error to rollback: not measured (no error seen or no rollback)");
        return Report(11, $"bad canary V3 (fails {BadCanaryFailureRate:P0} of requests) rolled back automatically after {RolloutFailureThreshold} failed intervals", passed,
            $"status {final?.Status ?? "none"}; first error → rollback {(measured is { } t ? $"{t.TotalSeconds:F2} s" : "n/a")}; then every user: {UserVersions(plain)} (only V2 expected); "
            + $"gray-996 testers still reach the canary: {UserVersions(testers)} (V3 expected, some failing); {_traffic.Summary()}",
            [.. plain, .. testers], timeline: timeline);
    }

    /// <summary>
    /// Polls the gateway's rollout endpoint until <paramref name="done"/> holds, one timeline line per change of status,
    /// step or verdict (every judged interval), with the figures that decided it.
    /// </summary>
    private async Task<(RolloutView? Final, List<string> Timeline)> FollowRolloutAsync(string grayVersion, Stopwatch watch, Func<RolloutView, bool> done, CancellationToken cancellationToken)
    {
        var timeline = new List<string> { $"{"t (s)",6}  {"status",-11} {"gray %",6}  {"verdict",-12} figures that decided it" };
        string? last = null;
        RolloutView? view = null;
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < RolloutDeadline)
        {
            view = await ReadRolloutAsync(cancellationToken);
            if (view is not null && view.GrayVersion == grayVersion)
            {
                var key = $"{view.Status}|{view.Step}|{view.FailedIntervals}|{view.LastVerdict}|{view.LastVerdictFigures}";
                if (key != last)
                {
                    last = key;
                    var verdict = view.LastVerdict is null ? "-" : view.FailedIntervals > 0 ? $"{view.LastVerdict} ({view.FailedIntervals}/{RolloutFailureThreshold})" : view.LastVerdict;
                    timeline.Add($"{watch.Elapsed.TotalSeconds,6:F2}  {view.Status,-11} {view.Percentage,6:0.##}  {verdict,-12} {(view.LastVerdictFigures is { } figures ? WithTraffic(figures) : view.History.Count > 0 ? view.History[^1].Reason : "")}");
                }

                if (done(view))
                {
                    return (view, timeline);
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }

        timeline.Add($"gave up after {RolloutDeadline.TotalSeconds:F0} s");
        return (view, timeline);
    }

    /// <summary>The figures of the services that had traffic (the demo drives only user-app; order-app shows 0/0).</summary>
    private static string WithTraffic(string figures) =>
        string.Join("; ", figures.Split("; ").Where(part => part.Split(" 0/0 errors").Length != 3));

    private static string UserVersions(IEnumerable<Hop> hops) =>
        string.Join(", ", hops.GroupBy(h => h.Succeeded ? h.UserVersion : $"HTTP {h.Status}").OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} ×{g.Count()}"));

    private async Task<RolloutView?> ReadRolloutAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _gateway.GetFromJsonAsync<RolloutView>(RolloutPath, JsonSerializerOptions.Web, cancellationToken);
        }
        catch (Exception exception) when (exception is HttpRequestException or JsonException)
        {
            return null;
        }
    }

    private async Task<List<Hop>> SendUsersAsync(int count, bool gray, CancellationToken cancellationToken)
    {
        var hops = new List<Hop>(count);
        for (var i = 0; i < count; i++)
        {
            KeyValuePair<string, string>[] headers = gray ? [Header("X-User-Id", $"tester-{i}"), Header("gray", "gray-996")] : [Header("X-User-Id", $"user-{i * 97}")];
            var user = await GetUserAsync(i, headers, cancellationToken);
            hops.Add(new Hop($"GET /user/users/{i} " + string.Join(", ", headers.Select(h => $"{h.Key}: {h.Value}")), user.Status, "-", user.Version ?? "-"));
        }

        return hops;
    }

    private async Task<(int Status, string? Version)> GetUserAsync(int id, KeyValuePair<string, string>[] headers, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/user/users/{id}");
        foreach (var header in headers)
        {
            request.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        try
        {
            using var response = await _gateway.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return ((int)response.StatusCode, null);
            }

            using var body = await response.Content.ReadFromJsonAsync<JsonDocument>(cancellationToken);
            return (200, body!.RootElement.GetProperty("servedBy").GetProperty("version").GetString());
        }
        catch (HttpRequestException)
        {
            return (0, null);
        }
    }

    /// <summary>The part of the gateway's <c>GET /_gray/rollout</c> the demo reads.</summary>
    internal sealed record RolloutView(string? Status, int Step, double? Percentage, string? GrayVersion, string? ProdVersion, int FailedIntervals, string? LastVerdict, string? LastVerdictFigures, IReadOnlyList<RolloutEntry> History);

    internal sealed record RolloutEntry(DateTimeOffset At, string From, string To, int FromStep, int ToStep, double Percentage, string Reason, string? Figures);

    /// <summary>
    /// Users' traffic through the gateway while a rollout runs: a few concurrent loops, each request from one of 5,000
    /// users (so the sticky percentage picks who goes gray) or, one in 20, from a tester with the gray header; counting
    /// what served it and when the bad canary first failed.
    /// </summary>
    private sealed class TrafficDriver : IAsyncDisposable
    {
        private const int Users = 5000;

        // Testers keep exercising the canary at every step, as QA does. Without them the 1 % step would see about eight
        // gray requests per half-second interval at the ~1,500 requests/s the demo manages on a small machine: too few
        // to judge, so the canary's first errors would wait for a conclusive interval (a real interval is a minute).
        private const int TesterEvery = 20;
        private const int Workers = 8;
        private readonly HttpClient _http;
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Task> _loops = [];
        private readonly Lock _gate = new();
        private readonly Dictionary<string, int> _byVersion = new(StringComparer.Ordinal);
        private volatile bool _paused;
        private long _next;
        private long _errors;
        private DateTimeOffset? _firstCanaryError;

        private TrafficDriver(Uri gateway)
        {
            _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(15) };
        }

        public DateTimeOffset? FirstCanaryErrorAt
        {
            get
            {
                lock (_gate)
                {
                    return _firstCanaryError;
                }
            }
        }

        public static TrafficDriver Start(Uri gateway)
        {
            var driver = new TrafficDriver(gateway) { _paused = true };
            using (ExecutionContext.SuppressFlow())
            {
                for (var i = 0; i < Workers; i++)
                {
                    driver._loops.Add(Task.Run(() => driver.LoopAsync(driver._stop.Token)));
                }
            }

            return driver;
        }

        public void Pause() => _paused = true;

        public void Resume()
        {
            lock (_gate)
            {
                _byVersion.Clear();
                _errors = 0;
                _firstCanaryError = null;
            }

            _paused = false;
        }

        public string Summary()
        {
            lock (_gate)
            {
                var total = _byVersion.Values.Sum() + _errors;
                return string.Create(CultureInfo.InvariantCulture, $"driven: {total} requests (1 in {TesterEvery} from gray-996 testers), {string.Join(", ", _byVersion.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} ×{p.Value}"))}, failed ×{_errors}");
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_loops).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _stop.Dispose();
            _http.Dispose();
        }

        private async Task LoopAsync(CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    if (_paused)
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(20), stop);
                        continue;
                    }

                    await SendOneAsync(stop);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception exception) when (exception is HttpRequestException or JsonException or OperationCanceledException or KeyNotFoundException or InvalidOperationException)
                {
                    // A failed request is counted by SendOneAsync where it can be; the loop goes on regardless.
                }
            }
        }

        private async Task SendOneAsync(CancellationToken stop)
        {
            var n = Interlocked.Increment(ref _next);
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/user/users/{n % 100}");
            if (n % TesterEvery == 0)
            {
                request.Headers.TryAddWithoutValidation("X-User-Id", $"tester-{n % 7}");
                request.Headers.TryAddWithoutValidation("gray", "gray-996");
            }
            else
            {
                request.Headers.TryAddWithoutValidation("X-User-Id", $"user-{n % Users}");
            }

            using var response = await _http.SendAsync(request, stop);
            var text = await response.Content.ReadAsStringAsync(stop);
            if (_paused)
            {
                return;
            }

            if (response.StatusCode != HttpStatusCode.OK)
            {
                lock (_gate)
                {
                    _errors++;
                    if (_firstCanaryError is null && text.Contains("Demo:FailureRate", StringComparison.Ordinal))
                    {
                        _firstCanaryError = DateTimeOffset.UtcNow;
                    }
                }

                return;
            }

            using var body = JsonDocument.Parse(text);
            var version = body.RootElement.GetProperty("servedBy").GetProperty("version").GetString() ?? "?";
            lock (_gate)
            {
                _byVersion[version] = _byVersion.GetValueOrDefault(version) + 1;
            }
        }
    }
}
