using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace GrayRelease.Soak;

/// <summary>
/// Runs the whole gray system as separate processes (the registry, the gray gateway, a gateway with the switch off,
/// order-app V1/V2, user-app V1/V2 and a user-app in a lane) under steady mixed traffic and churn (a third service's
/// instances starting, stopping and being killed; config pushes; registry restarts), samples every process at a
/// fixed period, then judges the samples (<see cref="Judge"/>) and writes CSV, plots and a summary.
/// </summary>
internal sealed class SoakRunner(SoakOptions options, TextWriter output)
{
    public const string GatewayConfigId = "gateway-app.yaml";
    public const string AllGatewayConfigId = "gateway-all.yaml";
    public const string CommonConfigId = "common-config.yaml";
    public const string StockService = "stock-app";

    private static readonly string[] RegistryServices = ["order-app", "user-app", "gateway-app", "gateway-all", StockService];

    // Samples and events are written from several loops at once.
    private readonly TextWriter _output = TextWriter.Synchronized(output);
    private readonly List<SampleProcess> _fixed = [];
    private readonly List<SampleRow> _rows = [];
    private readonly List<TrafficRow> _traffic = [];
    private readonly List<(double Seconds, string Text)> _events = [];
    private readonly List<RestartRecord> _restarts = [];
    private readonly Lock _gate = new();
    private readonly Stopwatch _clock = new();
    private readonly HashSet<int> _knownPorts = [];
    private EmulatorProcess _emulator = null!;
    private string _logFolder = "";
    private int _configPushes;
    private int _churnStarted;
    private int _churnStopped;
    private int _churnKilled;
    private int _churnAlive;

    public string OutputFolder { get; private set; } = "";

    public async Task<SoakResult> RunAsync(CancellationToken cancellationToken)
    {
        OutputFolder = options.OutputFolder ?? Path.Combine(SamplesLocator.RepositoryRoot(), "artifacts", "soak", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        _logFolder = Path.Combine(OutputFolder, "logs");
        Directory.CreateDirectory(_logFolder);
        var samples = SamplesLocator.Locate(options.SamplesRoot, options.Configuration);
        var restartPeriod = options.RestartPeriod < options.Duration / 3 ? options.RestartPeriod : options.Duration / 3;
        _output.WriteLine($"Soak: {options.Duration} at {options.Rate:F0} req/s; sample every {options.SamplePeriod.TotalSeconds:F0} s; config push every {options.ConfigPeriod.TotalSeconds:F0} s; "
            + $"churn every {options.ChurnPeriod.TotalSeconds:F0} s; registry restart every {restartPeriod.TotalSeconds:F0} s (down {options.RestartDown.TotalSeconds:F0} s); {(options.Short ? "short mode (caps)" : "slopes judged")}.");
        _output.WriteLine($"Output: {OutputFolder}");

        var churn = new List<SampleProcess>();
        Traffic? traffic = null;
        var traceWatch = Stopwatch.StartNew();
        try
        {
            _emulator = await EmulatorProcess.StartAsync(_logFolder, cancellationToken);
            _knownPorts.UnionWith([_emulator.HttpPort, _emulator.GrpcPort]);
            _output.WriteLine($"  emulator     pid {_emulator.Process.ProcessId}, HTTP {_emulator.HttpPort}, gRPC {_emulator.GrpcPort}");
            await _emulator.PublishAsync(CommonConfigId, CommonConfig(0), cancellationToken);
            await _emulator.PublishAsync(GatewayConfigId, GatewayConfig(0), cancellationToken);
            await _emulator.PublishAsync(AllGatewayConfigId, AllGatewayConfig, cancellationToken);

            foreach (var (name, project, version, lane) in new[]
            {
                ("user-app-V1", "UserApp", "V1", (string?)null), ("user-app-V2", "UserApp", "V2", null), ($"user-app-{Traffic.Lane}", "UserApp", "V3", Traffic.Lane),
                ("order-app-V1", "OrderApp", "V1", null), ("order-app-V2", "OrderApp", "V2", null),
            })
            {
                await StartFixedAsync(name, samples.DllPath(project), AppArguments(version, lane), cancellationToken);
            }

            await WaitUntilAsync("order-app V1/V2 and user-app V1/V2/lane registered", FullyRegisteredAsync, TimeSpan.FromSeconds(90), cancellationToken);
            var gateway = await StartFixedAsync("gateway", samples.DllPath("Gateway"), [.. AppArguments(null, null), .. StockRoute], cancellationToken);
            var gatewayAll = await StartFixedAsync("gateway-all", samples.DllPath("Gateway"),
                [.. AppArguments(null, null), "--nacos:ServiceName=gateway-all", $"--nacos:Listeners:1:DataId={AllGatewayConfigId}"], cancellationToken);

            using (var probe = Traffic.NewClient(gateway))
            using (var probeAll = Traffic.NewClient(gatewayAll))
            {
                await WaitUntilAsync("every kind of request is served as expected", async () =>
                {
                    foreach (var kind in Traffic.Kinds)
                    {
                        var hop = await Traffic.SendOnceAsync(kind.ThroughAllGateway ? probeAll : probe, kind, 1, cancellationToken);
                        if (hop is not { } served || !kind.Expected(served))
                        {
                            return false;
                        }
                    }

                    return true;
                }, TimeSpan.FromSeconds(90), cancellationToken);
            }

            _output.WriteLine($"  all up in {traceWatch.Elapsed.TotalSeconds:F1} s; load starts now.");
            _clock.Start();
            Event("load started");
            traffic = new Traffic(gateway, gatewayAll, options.Rate, _clock);
            traffic.Start();

            using var end = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            end.CancelAfter(options.Duration);
            var loops = new List<Task>
            {
                Every(options.SamplePeriod, t => SampleAsync(traffic, t), end.Token, first: TimeSpan.Zero),
                Every(options.ConfigPeriod, PushConfigAsync, end.Token),
                Every(options.ChurnPeriod, t => ChurnAsync(samples, churn, t), end.Token, first: TimeSpan.FromSeconds(1)),
                Every(restartPeriod, RestartRegistryAsync, end.Token),
                Every(TimeSpan.FromSeconds(1), t => traffic.ProbeStockAsync(_churnStarted, t), end.Token),
            };
            await Task.WhenAll(loops);
            cancellationToken.ThrowIfCancellationRequested();

            // The last requests finish and are counted; then one last sample.
            await traffic.DisposeAsync();
            var lastTraffic = traffic;
            traffic = null;
            await SampleAsync(lastTraffic, CancellationToken.None);
            Event("load stopped");
            var totals = TrafficSummary.From(lastTraffic, Snapshot());
            var result = Judge.Evaluate(options, _rows, _restarts, totals);
            await File.WriteAllTextAsync(Path.Combine(OutputFolder, "totals.json"), JsonSerializer.Serialize(totals), CancellationToken.None);
            await Report.WriteAsync(OutputFolder, options, _rows, _traffic, _events, result, _output);
            return result;
        }
        finally
        {
            if (traffic is not null)
            {
                await traffic.DisposeAsync();
            }

            foreach (var process in churn)
            {
                await process.DisposeAsync();
            }

            foreach (var process in Enumerable.Reverse(_fixed))
            {
                await process.DisposeAsync();
            }

            if (_emulator is not null)
            {
                await _emulator.DisposeAsync();
            }
        }
    }

    internal static string CommonConfig(int generation) => $"""
        GrayRelease:
          ProdVersion: V1
          GrayVersion: V2
          NoInstancePolicy: Fail
        Soak:
          Generation: {generation.ToString(CultureInfo.InvariantCulture)}
        """;

    internal static string GatewayConfig(int generation) => $"""
        GrayRelease:
          Gateway:
            Enabled: true
            HeaderName: gray
            HeaderValue: gray-996
            IpList: [ "10.255.255.0/24" ]
            Lanes:
              {Traffic.Lane}:
                Priority: 10
                HeaderName: x-lane
                HeaderValue: {Traffic.Lane}
        Soak:
          Generation: {generation.ToString(CultureInfo.InvariantCulture)}
        """;

    internal const string AllGatewayConfig = """
        GrayRelease:
          Gateway:
            Enabled: false
        """;

    // The gray gateway also routes /stock/ to the churned service, so that it subscribes to it and follows its churn.
    private static readonly string[] StockRoute =
    [
        "--ReverseProxy:Routes:stock:ClusterId=stock-app",
        "--ReverseProxy:Routes:stock:Match:Path=/stock/{**rest}",
        "--ReverseProxy:Routes:stock:Transforms:0:PathRemovePrefix=/stock",
        "--ReverseProxy:Clusters:stock-app:LoadBalancingPolicy=GrayRoundRobin",
        "--ReverseProxy:Clusters:stock-app:Destinations:nacos:Address=http://stock-app",
        "--ReverseProxy:Clusters:stock-app:Destinations:nacos:Metadata:GrayRelease.Service=stock-app",
    ];

    private static Dictionary<string, string> DiagnosticsOn => new(StringComparer.Ordinal) { ["GRAYRELEASE_SOAK_DIAGNOSTICS"] = "1" };

    private (int Started, int Stopped, int Killed, int ConfigPushes) Snapshot() => (_churnStarted, _churnStopped, _churnKilled, _configPushes);

    private IEnumerable<string> AppArguments(string? version, string? lane)
    {
        yield return "--urls";
        yield return "http://127.0.0.1:0";

        // user-app's gRPC endpoint (read by user-app only, published as gRPC_port of user-app): its default port would be
        // taken by the first user-app.
        yield return "--Grpc:Url=http://127.0.0.1:0";
        yield return $"--nacos:ServerAddresses:0={_emulator.ServerAddress}";
        yield return $"--nacos:SnapshotPath={Path.Combine(OutputFolder, "snapshots")}";
        yield return "--nacos:DrainDelay=00:00:01";
        if (version is not null)
        {
            yield return $"--GrayRelease:Version={version}";
        }

        if (lane is not null)
        {
            yield return $"--GrayRelease:Lane={lane}";
        }
    }

    private async Task<Uri> StartFixedAsync(string name, string dllPath, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var process = SampleProcess.Start(name, "dotnet", [dllPath, .. arguments], _logFolder, DiagnosticsOn, timestamps: true);
        _fixed.Add(process);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(90));
        var address = await process.WaitUntilListeningAsync(timeout.Token);
        _knownPorts.Add(address.Port);
        _output.WriteLine($"  {name,-12} pid {process.ProcessId}, {address}");
        return address;
    }

    private async Task<bool> FullyRegisteredAsync()
    {
        var users = await _emulator.ListAsync("user-app", CancellationToken.None);
        var orders = await _emulator.ListAsync("order-app", CancellationToken.None);
        return users.Any(i => i is { Version: "V1", Lane: "" }) && users.Any(i => i is { Version: "V2", Lane: "" }) && users.Any(i => i.Lane == Traffic.Lane)
            && orders.Any(i => i.Version == "V1") && orders.Any(i => i.Version == "V2");
    }

    private async Task<bool> GatewaysRegisteredAsync() =>
        (await _emulator.ListAsync("gateway-app", CancellationToken.None)).Count > 0 && (await _emulator.ListAsync("gateway-all", CancellationToken.None)).Count > 0;

    private async Task PushConfigAsync(CancellationToken cancellationToken)
    {
        var generation = Interlocked.Increment(ref _configPushes);
        // Alternate the two dataIds every service or gateway listens to; the content changes (a generation number), the
        // routing does not, so every push reloads options everywhere without changing what must serve a request.
        if (generation % 2 == 0)
        {
            await _emulator.PublishAsync(CommonConfigId, CommonConfig(generation), cancellationToken);
        }
        else
        {
            await _emulator.PublishAsync(GatewayConfigId, GatewayConfig(generation), cancellationToken);
        }
    }

    private async Task ChurnAsync(SamplesLocator samples, List<SampleProcess> churn, CancellationToken cancellationToken)
    {
        var number = Interlocked.Increment(ref _churnStarted);
        var name = $"{StockService}-{number}";
        var process = SampleProcess.Start(name, "dotnet", [samples.DllPath("UserApp"), .. AppArguments("V1", null), $"--nacos:ServiceName={StockService}"], _logFolder, timestamps: true);
        churn.Add(process);
        Event($"churn: {name} started (pid {process.ProcessId})");
        while (churn.Count(p => !p.HasExited) > 2)
        {
            var oldest = churn.First(p => !p.HasExited);
            // Alternate a graceful stop (SIGTERM: deregisters, drains) and a crash (SIGKILL: vanishes; the registry
            // marks it unhealthy after the heartbeat timeout, then deletes it).
            if (number % 2 == 0)
            {
                await oldest.CrashAsync();
                Interlocked.Increment(ref _churnKilled);
                Event($"churn: {oldest.Name} killed -9");
            }
            else
            {
                await oldest.StopGracefullyAsync(TimeSpan.FromSeconds(15));
                Interlocked.Increment(ref _churnStopped);
                Event($"churn: {oldest.Name} stopped (SIGTERM)");
            }

            await oldest.DisposeAsync();
            churn.Remove(oldest);
        }

        _churnAlive = churn.Count(p => !p.HasExited);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task RestartRegistryAsync(CancellationToken cancellationToken)
    {
        var began = _clock.Elapsed;
        Event($"registry restart: down for {options.RestartDown.TotalSeconds:F0} s");
        await _emulator.RestartAsync(options.RestartDown, CancellationToken.None);
        var up = _clock.Elapsed;
        Event("registry restart: up again, ephemeral instances gone");
        // Clients must find out by themselves (a failed call, a closed gRPC stream) and register again.
        var back = await TryWaitUntilAsync(async () => await FullyRegisteredAsync() && await GatewaysRegisteredAsync(), TimeSpan.FromSeconds(60), CancellationToken.None);
        var after = _clock.Elapsed - up;
        Event(back ? $"registry restart: every service and gateway registered again {after.TotalSeconds:F1} s after" : "registry restart: NOT every instance registered again within 60 s");
        lock (_gate)
        {
            _restarts.Add(new RestartRecord(began.TotalSeconds, up.TotalSeconds, back ? after.TotalSeconds : null));
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task SampleAsync(Traffic traffic, CancellationToken cancellationToken)
    {
        var seconds = _clock.Elapsed.TotalSeconds;
        var at = DateTimeOffset.UtcNow;
        var table = ProcFs.TcpTable();
        var registryPorts = new HashSet<int> { _emulator.HttpPort, _emulator.GrpcPort };
        var tasks = _fixed.Select(p => SampleAppAsync(p, table, registryPorts)).Append(SampleEmulatorAsync(table, registryPorts)).ToList();
        var rows = await Task.WhenAll(tasks);
        var system = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["time_wait_ours"] = table.Count(s => s.State == 6 && (_knownPorts.Contains(s.LocalPort) || _knownPorts.Contains(s.RemotePort))),
            ["churn_alive"] = _churnAlive,
            ["churn_started"] = _churnStarted,
            ["config_pushes"] = _configPushes,
            ["load_average"] = ProcFs.LoadAverage(),
        };
        var kinds = traffic.TakeInterval();
        lock (_gate)
        {
            foreach (var values in rows)
            {
                if (values is not null)
                {
                    _rows.Add(values with { Seconds = seconds, At = at });
                }
            }

            _rows.Add(new SampleRow(seconds, at, "system", 0, system));
            _traffic.Add(new TrafficRow(seconds, kinds, traffic.Skipped, traffic.Stock.Ok, traffic.Stock.Failed));
        }

        if (_traffic.Count == 1 || !cancellationToken.CanBeCanceled)
        {
            // What each process's descriptors are, at the start and at the end: a step in `fds` can then be attributed.
            var listing = new System.Text.StringBuilder(_traffic.Count == 1 ? "t_s,process,count,kind\n" : "");
            foreach (var process in _fixed.Append(_emulator.Process).Where(p => !p.HasExited))
            {
                foreach (var (kind, count) in ProcFs.DescriptorKinds(process.ProcessId).OrderBy(k => k.Key, StringComparer.Ordinal))
                {
                    listing.AppendLine(CultureInfo.InvariantCulture, $"{seconds:F0},{process.Name},{count},\"{kind}\"");
                }
            }

            await File.AppendAllTextAsync(Path.Combine(OutputFolder, "fds.csv"), listing.ToString(), CancellationToken.None);
        }

        if (_traffic.Count % 12 == 1)
        {
            // Written as the run goes too, so that a long run can be looked at before it ends (and survives a crash).
            List<SampleRow> copy;
            lock (_gate)
            {
                copy = [.. _rows];
            }

            await File.WriteAllTextAsync(Path.Combine(OutputFolder, "samples.csv"), Report.SamplesCsv(copy), CancellationToken.None);
        }

        var apps = rows.Where(r => r is not null && r.Process != "emulator").ToList();
        _output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {seconds,7:F0} s  ok {kinds.Sum(k => k.Ok),5} failed {kinds.Sum(k => k.Failed)} cross {kinds.Sum(k => k.Cross)}  heap {string.Join(' ', apps.Select(r => r!.Values.GetValueOrDefault("heap_mb").ToString("F1", CultureInfo.InvariantCulture)))} MB  threads {string.Join(' ', apps.Select(r => r!.Values.GetValueOrDefault("threads")))}  loops {string.Join(' ', apps.Select(r => r!.Values.GetValueOrDefault("loops")))}"));
        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task<SampleRow?> SampleAppAsync(SampleProcess process, List<TcpSocket> table, HashSet<int> registryPorts)
    {
        if (process.HasExited)
        {
            return new SampleRow(0, default, process.Name, process.ProcessId, new Dictionary<string, double>(StringComparer.Ordinal) { ["alive"] = 0 });
        }

        var values = ProcValues(process.ProcessId, table, s => s.State == 1 && registryPorts.Contains(s.RemotePort));
        values["alive"] = 1;
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
            using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri(process.Address!, "/_soak/diagnostics")));
            var root = document.RootElement;
            values["heap_mb"] = root.GetProperty("heapAfterGcBytes").GetInt64() / 1048576.0;
            values["committed_mb"] = root.GetProperty("committedBytes").GetInt64() / 1048576.0;
            values["gen0"] = root.GetProperty("gen0").GetInt32();
            values["gen1"] = root.GetProperty("gen1").GetInt32();
            values["gen2"] = root.GetProperty("gen2").GetInt32() - root.GetProperty("inducedGen2").GetInt64();
            values["threadpool_threads"] = root.GetProperty("threadPoolThreads").GetInt32();
            values["timers"] = root.GetProperty("timers").GetInt64();
            var total = 0L;
            foreach (var loop in root.GetProperty("loops").EnumerateObject())
            {
                values["loops_" + loop.Name.Replace('.', '_')] = loop.Value.GetInt64();
                total += loop.Value.GetInt64();
            }

            values["loops"] = total;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            Event($"sample: {process.Name}'s diagnostics did not answer: {exception.Message}");
        }

        return new SampleRow(0, default, process.Name, process.ProcessId, values);
    }

    private async Task<SampleRow?> SampleEmulatorAsync(List<TcpSocket> table, HashSet<int> registryPorts)
    {
        var pid = _emulator.Process.ProcessId;
        var values = ProcValues(pid, table, s => s.State == 1 && registryPorts.Contains(s.LocalPort));
        values["alive"] = _emulator.Process.HasExited ? 0 : 1;
        try
        {
            var stats = await _emulator.StatsAsync(RegistryServices, CancellationToken.None);
            values["heap_mb"] = stats.HeapAfterGcBytes / 1048576.0;
            values["committed_mb"] = stats.CommittedBytes / 1048576.0;
            values["gen0"] = stats.Gen0;
            values["gen1"] = stats.Gen1;
            values["gen2"] = stats.Gen2 - stats.InducedGen2;
            values["threadpool_threads"] = stats.ThreadPoolThreads;
            values["timers"] = stats.Timers;
            values["grpc_connections"] = stats.GrpcConnections;
            values["held_listeners"] = stats.HeldConfigListeners;
            foreach (var (service, count) in stats.Instances)
            {
                values["instances_" + service.Replace('-', '_')] = count;
            }
        }
        catch (Exception exception) when (exception is InvalidOperationException or TimeoutException or JsonException)
        {
            Event($"sample: the emulator's stats did not answer: {exception.Message}");
        }

        return new SampleRow(0, default, "emulator", pid, values);
    }

    private static Dictionary<string, double> ProcValues(int pid, List<TcpSocket> table, Func<TcpSocket, bool> toRegistry)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        if (ProcFs.Status(pid) is { } status)
        {
            values["rss_mb"] = status.RssMb;
            values["threads"] = status.Threads;
        }

        if (ProcFs.CpuSeconds(pid) is { } cpu)
        {
            values["cpu_s"] = cpu;
        }

        if (ProcFs.Descriptors(pid) is { } descriptors)
        {
            values["fds"] = descriptors.Fds;
            values["fds_code"] = descriptors.CodeFiles;
            values["fds_other"] = descriptors.Fds - descriptors.CodeFiles - descriptors.Sockets;
            var mine = table.Where(s => s.Inode != 0 && descriptors.SocketInodes.Contains(s.Inode)).ToList();
            values["sockets"] = mine.Count;
            values["sock_established"] = 0;
            values["sock_close_wait"] = 0;
            foreach (var group in mine.GroupBy(s => ProcFs.StateName(s.State)))
            {
                values["sock_" + group.Key] = group.Count();
            }

            values["registry_conns"] = mine.Count(toRegistry);
        }

        return values;
    }

    private void Event(string text)
    {
        var seconds = _clock.Elapsed.TotalSeconds;
        lock (_gate)
        {
            _events.Add((seconds, text));
            _output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {seconds,7:F0} s  {text}"));
        }
    }

    /// <summary>Runs <paramref name="work"/> every <paramref name="period"/> until cancelled; a failed round is noted and the loop goes on.</summary>
    private async Task Every(TimeSpan period, Func<CancellationToken, Task> work, CancellationToken stop, TimeSpan? first = null)
    {
        try
        {
            await Task.Delay(first ?? period, stop);
            using var timer = new PeriodicTimer(period);
            do
            {
                try
                {
                    await work(stop);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception exception)
                {
                    Event($"round failed: {exception.GetType().Name}: {exception.Message}");
                }
            }
            while (await timer.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private static async Task WaitUntilAsync(string what, Func<Task<bool>> condition, TimeSpan deadline, CancellationToken cancellationToken)
    {
        if (!await TryWaitUntilAsync(condition, deadline, cancellationToken))
        {
            throw new TimeoutException($"Timed out after {deadline.TotalSeconds:F0} s waiting until {what}.");
        }
    }

    private static async Task<bool> TryWaitUntilAsync(Func<Task<bool>> condition, TimeSpan deadline, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < deadline)
        {
            try
            {
                if (await condition())
                {
                    return true;
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or JsonException or InvalidOperationException)
            {
                // Not up yet.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }

        return false;
    }
}

internal sealed record SampleRow(double Seconds, DateTimeOffset At, string Process, int Pid, Dictionary<string, double> Values);

internal sealed record TrafficRow(double Seconds, KindCounts[] Kinds, long SkippedTotal, long StockOkTotal, long StockFailedTotal);

internal sealed record RestartRecord(double BeganSeconds, double UpSeconds, double? ReRegisteredAfterSeconds);
