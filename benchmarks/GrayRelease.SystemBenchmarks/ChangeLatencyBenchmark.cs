using System.Diagnostics;
using System.Globalization;
using GrayRelease.Nacos.Emulator;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GrayRelease.SystemBenchmarks;

/// <summary>
/// (c) Time from a registry change (an instance registered or deregistered in the emulator) to the first request a
/// gray-aware <see cref="HttpClient"/> routes by it: HTTP with UDP push on and off (2 line), gRPC push (3.2 line) with the
/// emulator's push delay at 0 and at the real server's 500 ms.
/// </summary>
internal static class ChangeLatencyBenchmark
{
    private const string Service = "latency-app";
    private const int StableRun = 10;

    /// <summary>One measured setup: server line, client transport, UDP push, emulator gRPC push delay.</summary>
    private sealed record Setup(string Name, NacosServerLine Line, string Transport, bool UdpPush, TimeSpan GrpcPushDelay);

    public static async Task RunAsync(int runs, int cacheMillis, TextWriter output)
    {
        Setup[] setups =
        [
            new("2 line, HTTP, UDP push", NacosServerLine.Nacos2, "Http", true, TimeSpan.Zero),
            new("2 line, HTTP, polling only", NacosServerLine.Nacos2, "Http", false, TimeSpan.Zero),
            new("3.2 line, gRPC push, server push delay 0", NacosServerLine.Nacos32, "Grpc", false, TimeSpan.Zero),
            new("3.2 line, gRPC push, server push delay 500 ms (real default)", NacosServerLine.Nacos32, "Grpc", false, TimeSpan.FromMilliseconds(500)),
        ];
        output.WriteLine($"## (c) Registry change → first request routed by it ({runs} changes each way; emulator cacheMillis {cacheMillis} ms)");
        output.WriteLine();
        output.WriteLine("| setup | change | median ms | p90 ms | p99 ms | min–max ms | server connections (gRPC / HTTP) |");
        output.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var setup in setups)
        {
            var (registered, deregistered, connections) = await MeasureAsync(setup, runs, cacheMillis);
            Row(output, setup, "instance registered → first request to it", registered, connections);
            Row(output, setup, $"instance deregistered → first of {StableRun} requests in a row avoiding it", deregistered, connections);
        }

        output.WriteLine();
        output.WriteLine("Server connections: established TCP connections to the emulator's gRPC / HTTP port, read from /proc/net/tcp after the last change (the client has no configuration listeners in this benchmark).");
        output.WriteLine();
    }

    private static void Row(TextWriter output, Setup setup, string change, List<double> values, (int Grpc, int Http) connections) =>
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {setup.Name} | {change} | {Stats.Median(values):F0} | {Stats.Quantile(values, 0.9):F0} | {Stats.Quantile(values, 0.99):F0} | {values.DefaultIfEmpty(double.NaN).Min():F0}–{values.DefaultIfEmpty(double.NaN).Max():F0} | {connections.Grpc} / {connections.Http} |"));

    private static async Task<(List<double> Registered, List<double> Deregistered, (int Grpc, int Http) Connections)> MeasureAsync(Setup setup, int runs, int cacheMillis)
    {
        await using var emulator = await NacosEmulator.StartAsync(new NacosEmulatorOptions
        {
            CacheMillis = cacheMillis,
            ServerLine = setup.Line,
            GrpcPushDelay = setup.GrpcPushDelay,
        });
        await using var stable = await Backend.StartAsync();
        await using var moving = await Backend.StartAsync();
        emulator.RegisterInstance(Service, "127.0.0.1", stable.Port);

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["nacos:ServerAddresses:0"] = emulator.ServerAddress,
            ["nacos:RegisterEnabled"] = "false",
            ["nacos:Transport"] = setup.Transport,
            ["nacos:UdpPushEnabled"] = setup.UdpPush ? "true" : "false",
            ["nacos:SnapshotPath"] = Path.Combine(Path.GetTempPath(), "grayrelease-systembench", Guid.NewGuid().ToString("N")),
        });
        builder.Services.AddLogging();
        builder.AddGrayRelease().AddNacos();
        builder.Services.AddHttpClient(Service, client => client.BaseAddress = new Uri("http://" + Service)).AddGrayRelease();
        using var host = builder.Build();
        await host.StartAsync();
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient(Service);
        var stablePort = stable.Port.ToString(CultureInfo.InvariantCulture);
        var movingPort = moving.Port.ToString(CultureInfo.InvariantCulture);
        if (await client.GetStringAsync(new Uri("/", UriKind.Relative)) != stablePort)
        {
            throw new InvalidOperationException("The client does not route to the registered instance.");
        }

        var registered = new List<double>();
        var deregistered = new List<double>();
        for (var run = 0; run <= runs; run++)
        {
            var started = Stopwatch.GetTimestamp();
            emulator.RegisterInstance(Service, "127.0.0.1", moving.Port);
            using (var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            {
                while (await client.GetStringAsync(new Uri("/", UriKind.Relative), limit.Token) != movingPort)
                {
                }
            }

            var toRegistered = Stopwatch.GetElapsedTime(started).TotalMilliseconds;

            started = Stopwatch.GetTimestamp();
            emulator.RemoveInstance(Service, "127.0.0.1", moving.Port);
            long runStart = 0;
            var inARow = 0;
            using (var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            {
                while (inARow < StableRun)
                {
                    var sent = Stopwatch.GetTimestamp();
                    if (await client.GetStringAsync(new Uri("/", UriKind.Relative), limit.Token) == stablePort)
                    {
                        runStart = inARow == 0 ? sent : runStart;
                        inARow++;
                    }
                    else
                    {
                        inARow = 0;
                    }
                }
            }

            var toDeregistered = Math.Max(0, Stopwatch.GetElapsedTime(started, runStart).TotalMilliseconds);
            if (run > 0)
            {
                // Run 0 warms up the JIT and the push subscription.
                registered.Add(toRegistered);
                deregistered.Add(toDeregistered);
            }
        }

        var connections = (TcpConnections.CountEstablishedTo(emulator.GrpcPort), TcpConnections.CountEstablishedTo(emulator.Port));
        await host.StopAsync();
        return (registered, deregistered, connections);
    }
}
