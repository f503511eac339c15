using System.Globalization;
using System.Text;
using System.Text.Json;
using GrayRelease.Nacos.Emulator;

namespace GrayRelease.Soak;

/// <summary>
/// The registry as its own process: this program in <c>emulator</c> mode hosts the Nacos emulator (3.2 line, gRPC) and
/// takes one command per line on standard input, answering one line (<c>OK ...</c> or <c>ERR ...</c>): publish a
/// config, restart (down for a while, then back on the same ports with its ephemeral instances gone and its configs
/// kept, as a real server whose configs live in its database), list a service, report its own counts.
/// </summary>
internal static class EmulatorChild
{
    public const string Mode = "emulator";

    public static async Task<int> RunAsync()
    {
        await using var emulator = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos32 });
        var induced = 0L;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"READY {emulator.Port} {emulator.GrpcPort}"));
        while (await Console.In.ReadLineAsync() is { } line)
        {
            string reply;
            try
            {
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                reply = "OK " + parts[0] switch
                {
                    "publish" => Publish(emulator, parts[1], parts[2]),
                    "restart" => await RestartAsync(emulator, TimeSpan.FromMilliseconds(int.Parse(parts[1], CultureInfo.InvariantCulture))),
                    "list" => List(emulator, parts[1]),
                    "stats" => Stats(emulator, parts[1..], ref induced),
                    _ => throw new ArgumentException($"unknown command '{parts[0]}'"),
                };
            }
            catch (Exception exception)
            {
                reply = "ERR " + exception.Message.ReplaceLineEndings(" ");
            }

            Console.WriteLine(reply);
        }

        // Standard input closed: the harness has gone; so does the registry.
        return 0;
    }

    private static string Publish(NacosEmulator emulator, string dataId, string base64)
    {
        emulator.PublishConfig(dataId, "DEFAULT_GROUP", Encoding.UTF8.GetString(Convert.FromBase64String(base64)), type: "yaml");
        return dataId;
    }

    private static async Task<string> RestartAsync(NacosEmulator emulator, TimeSpan down)
    {
        await emulator.StopAsync();
        await Task.Delay(down);
        await emulator.RestartAsync();
        return string.Create(CultureInfo.InvariantCulture, $"{emulator.Port} {emulator.GrpcPort}");
    }

    private static string List(NacosEmulator emulator, string service) =>
        JsonSerializer.Serialize(emulator.GetInstances(service)
            .Where(i => i.Healthy && i.Enabled)
            .Select(i => new ListedInstance(i.Metadata.GetValueOrDefault("version", ""), i.Metadata.GetValueOrDefault("lane", ""), i.Port))
            .ToList());

    private static string Stats(NacosEmulator emulator, string[] services, ref long induced)
    {
        var gen0 = GC.CollectionCount(0);
        var gen1 = GC.CollectionCount(1);
        var gen2 = GC.CollectionCount(2);
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        induced += 2;
        var stats = new EmulatorStats(
            GC.GetTotalMemory(forceFullCollection: false),
            GC.GetGCMemoryInfo(GCKind.FullBlocking).TotalCommittedBytes,
            gen0,
            gen1,
            gen2,
            induced - 2,
            ThreadPool.ThreadCount,
            Timer.ActiveCount,
            emulator.GrpcConnections.Count,
            emulator.HeldConfigListeners,
            services.ToDictionary(s => s, s => emulator.GetInstances(s).Count, StringComparer.Ordinal));
        return JsonSerializer.Serialize(stats);
    }
}

internal sealed record ListedInstance(string Version, string Lane, int Port);

internal sealed record EmulatorStats(
    long HeapAfterGcBytes,
    long CommittedBytes,
    int Gen0,
    int Gen1,
    int Gen2,
    long InducedGen2,
    int ThreadPoolThreads,
    long Timers,
    int GrpcConnections,
    int HeldConfigListeners,
    Dictionary<string, int> Instances);

/// <summary>The harness's side of <see cref="EmulatorChild"/>: one command at a time, one answer line each.</summary>
internal sealed class EmulatorProcess : IAsyncDisposable
{
    private readonly SampleProcess _process;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TaskCompletionSource<(int Http, int Grpc)> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource<string>? _answer;

    private EmulatorProcess(SampleProcess process)
    {
        _process = process;
        _process.OnLine = OnLine;
    }

    public SampleProcess Process => _process;

    public int HttpPort { get; private set; }

    public int GrpcPort { get; private set; }

    public string ServerAddress => string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{HttpPort}");

    public static async Task<EmulatorProcess> StartAsync(string logFolder, CancellationToken cancellationToken)
    {
        var (fileName, prefix) = Self.Command();
        var process = new EmulatorProcess(SampleProcess.Start("emulator", fileName, [.. prefix, EmulatorChild.Mode], logFolder, redirectInput: true, timestamps: true));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        (process.HttpPort, process.GrpcPort) = await process._ready.Task.WaitAsync(timeout.Token);
        return process;
    }

    public Task PublishAsync(string dataId, string content, CancellationToken cancellationToken) =>
        CommandAsync($"publish {dataId} {Convert.ToBase64String(Encoding.UTF8.GetBytes(content))}", cancellationToken);

    public Task RestartAsync(TimeSpan down, CancellationToken cancellationToken) =>
        CommandAsync(string.Create(CultureInfo.InvariantCulture, $"restart {(int)down.TotalMilliseconds}"), cancellationToken);

    public async Task<IReadOnlyList<ListedInstance>> ListAsync(string service, CancellationToken cancellationToken) =>
        JsonSerializer.Deserialize<List<ListedInstance>>(await CommandAsync($"list {service}", cancellationToken)) ?? [];

    public async Task<EmulatorStats> StatsAsync(IEnumerable<string> services, CancellationToken cancellationToken) =>
        JsonSerializer.Deserialize<EmulatorStats>(await CommandAsync("stats " + string.Join(' ', services), cancellationToken))!;

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        _gate.Dispose();
    }

    private async Task<string> CommandAsync(string command, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var answer = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _answer, answer);
            await _process.WriteLineAsync(command);
            // Not cancellable once written: an answer left unread would be taken for the next command's.
            var line = await answer.Task.WaitAsync(TimeSpan.FromSeconds(120), CancellationToken.None);
            return line.StartsWith("OK ", StringComparison.Ordinal)
                ? line[3..]
                : throw new InvalidOperationException($"The emulator refused '{command.Split(' ')[0]}': {line}");
        }
        finally
        {
            _gate.Release();
        }
    }

    private void OnLine(string line)
    {
        if (line.StartsWith("READY ", StringComparison.Ordinal))
        {
            var parts = line.Split(' ');
            _ready.TrySetResult((int.Parse(parts[1], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture)));
        }
        else if (line.StartsWith("OK ", StringComparison.Ordinal) || line.StartsWith("ERR ", StringComparison.Ordinal) || line is "OK")
        {
            Volatile.Read(ref _answer)?.TrySetResult(line is "OK" ? "OK " : line);
        }
    }
}

/// <summary>How to start this program again as a child (the emulator mode).</summary>
internal static class Self
{
    public static (string FileName, string[] Prefix) Command()
    {
        var assembly = typeof(Self).Assembly.Location;
        var processPath = Environment.ProcessPath ?? "dotnet";
        if (Path.GetFileNameWithoutExtension(processPath) != "dotnet")
        {
            // Started through the apphost (bin/.../GrayRelease.Soak).
            return Path.GetFileNameWithoutExtension(processPath) == "GrayRelease.Soak" ? (processPath, []) : ("dotnet", [assembly]);
        }

        return (processPath, [assembly]);
    }
}
