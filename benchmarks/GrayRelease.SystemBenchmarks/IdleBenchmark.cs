using System.Diagnostics;
using System.Globalization;
using GrayRelease.Discovery;
using GrayRelease.Nacos.Emulator;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GrayRelease.SystemBenchmarks;

/// <summary>
/// (d) An idle client subscribed to 100 services: client CPU time and bytes on the wire per minute, gRPC push (3.2 line)
/// vs HTTP polling (2 line, UDP push off, cacheMillis 10 s as a real server answers). The client runs in a child process
/// (this program in <c>idle-client</c> mode) so its CPU time excludes the emulator; the bytes are counted by a loopback
/// forwarder in front of each emulator port.
/// </summary>
internal static class IdleBenchmark
{
    private const int Services = 100;
    private const string ConfigDataId = "idle-gray-release.yaml";
    private const int RealServerCacheMillis = 10_000;
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(15);

    public static async Task RunAsync(int seconds, TextWriter output)
    {
        output.WriteLine($"## (d) Idle client, {Services} subscribed services, {seconds} s measured after {WarmUp.TotalSeconds:F0} s warm-up (cacheMillis {RealServerCacheMillis} ms)");
        output.WriteLine();
        output.WriteLine("| setup | client CPU ms / min | bytes / min (sent + received) | open connections (gRPC / HTTP) |");
        output.WriteLine("|---|---|---|---|");
        await MeasureAsync("3.2 line, gRPC (push)", NacosServerLine.Nacos32, "Grpc", listen: false, seconds, output);
        await MeasureAsync("3.2 line, gRPC (push), plus 1 config listener", NacosServerLine.Nacos32, "Grpc", listen: true, seconds, output);
        await MeasureAsync("2 line, HTTP polling (UDP push off)", NacosServerLine.Nacos2, "Http", listen: false, seconds, output);
        output.WriteLine();
    }

    private static async Task MeasureAsync(string name, NacosServerLine line, string transport, bool listen, int seconds, TextWriter output)
    {
        await using var emulator = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = line, CacheMillis = RealServerCacheMillis });
        emulator.PublishConfig(ConfigDataId, "DEFAULT_GROUP", "GrayRelease:\n  Version: v1\n", type: "yaml");
        for (var i = 0; i < Services; i++)
        {
            emulator.RegisterInstance(ServiceName(i), "127.0.0.1", 20_000 + i);
        }

        await using var http = CountingProxy.Start(emulator.Port);
        await using var grpc = CountingProxy.Start(emulator.GrpcPort == 0 ? emulator.Port : emulator.GrpcPort);
        var (fileName, prefix) = Self();
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in prefix.Concat(new[]
        {
            "idle-client", "--server", "http://127.0.0.1:" + http.Port.ToString(CultureInfo.InvariantCulture),
            "--grpc-port", grpc.Port.ToString(CultureInfo.InvariantCulture), "--transport", transport,
            "--idle-seconds", seconds.ToString(CultureInfo.InvariantCulture),
        }).Concat(listen ? ["--listen"] : Array.Empty<string>()))
        {
            start.ArgumentList.Add(argument);
        }

        using var child = Process.Start(start) ?? throw new InvalidOperationException("Cannot start the idle client.");
        long bytesAtStart = 0;
        var connections = (Grpc: 0, Http: 0);
        double cpuMillis = double.NaN;
        while (await child.StandardOutput.ReadLineAsync() is { } lineRead)
        {
            if (lineRead == "READY")
            {
                bytesAtStart = http.Bytes + grpc.Bytes;
                connections = (emulator.GrpcPort == 0 ? 0 : grpc.Connections, http.Connections);
            }
            else if (lineRead.StartsWith("DONE ", StringComparison.Ordinal))
            {
                cpuMillis = double.Parse(lineRead.AsSpan(5), CultureInfo.InvariantCulture);
                break;
            }
        }

        var bytes = http.Bytes + grpc.Bytes - bytesAtStart;
        await child.WaitForExitAsync();
        var perMinute = 60.0 / seconds;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {cpuMillis * perMinute:F0} | {bytes * perMinute:N0} | {connections.Grpc} / {connections.Http} |"));
    }

    /// <summary>The child side: subscribe, warm up, then report the CPU time spent while idle.</summary>
    public static async Task RunClientAsync(string server, int grpcPort, string transport, bool listen, int seconds)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["nacos:ServerAddresses:0"] = server,
            ["nacos:GrpcPort"] = grpcPort.ToString(CultureInfo.InvariantCulture),
            ["nacos:Transport"] = transport,
            ["nacos:RegisterEnabled"] = "false",
            ["nacos:UdpPushEnabled"] = "false",
            ["nacos:SnapshotPath"] = Path.Combine(Path.GetTempPath(), "grayrelease-systembench", Guid.NewGuid().ToString("N")),
        });
        if (listen)
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["nacos:Listeners:0:DataId"] = ConfigDataId,
                ["nacos:Listeners:0:Type"] = "yaml",
            });
        }

        builder.Services.AddLogging();
        builder.AddGrayRelease().AddNacos();
        using var host = builder.Build();
        await host.StartAsync();
        if (listen && host.Services.GetRequiredService<IConfiguration>()["GrayRelease:Version"] != "v1")
        {
            throw new InvalidOperationException("The config listener did not load its dataId.");
        }

        var provider = host.Services.GetRequiredService<IServiceInstanceProvider>();
        for (var i = 0; i < Services; i++)
        {
            var instances = await provider.GetInstancesAsync(ServiceName(i));
            if (instances is not { Count: 1 })
            {
                throw new InvalidOperationException($"{ServiceName(i)}: expected 1 instance, got {instances?.Count.ToString(CultureInfo.InvariantCulture) ?? "null"}.");
            }
        }

        await Task.Delay(WarmUp);
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpuAtStart = process.TotalProcessorTime;
        Console.WriteLine("READY");
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuAtStart).TotalMilliseconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"DONE {cpu:F1}"));
        await host.StopAsync();
    }

    private static string ServiceName(int i) => "idle-app-" + i.ToString("D3", CultureInfo.InvariantCulture);

    private static (string FileName, string[] Prefix) Self()
    {
        var processPath = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(processPath) == "dotnet"
            ? (processPath, [typeof(IdleBenchmark).Assembly.Location])
            : (processPath, []);
    }
}
