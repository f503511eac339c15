using System.Diagnostics;
using System.Globalization;
using GrayRelease.Nacos.Emulator;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GrayRelease.SystemBenchmarks;

/// <summary>
/// (c) Time from a registry change (an instance registered or deregistered in the emulator) to the first request a
/// gray-aware <see cref="HttpClient"/> routes by it, with UDP push on and off.
/// </summary>
internal static class ChangeLatencyBenchmark
{
    private const string Service = "latency-app";
    private const int StableRun = 10;

    public static async Task RunAsync(int runs, int cacheMillis, TextWriter output)
    {
        output.WriteLine($"## (c) Registry change → first request routed by it ({runs} changes each way; emulator cacheMillis {cacheMillis} ms)");
        output.WriteLine();
        output.WriteLine("| UDP push | change | median ms | p90 ms | min–max ms |");
        output.WriteLine("|---|---|---|---|---|");
        foreach (var push in new[] { true, false })
        {
            var (registered, deregistered) = await MeasureAsync(push, runs, cacheMillis);
            Row(output, push, "instance registered → first request to it", registered);
            Row(output, push, $"instance deregistered → first of {StableRun} requests in a row avoiding it", deregistered);
        }

        output.WriteLine();
    }

    private static void Row(TextWriter output, bool push, string change, List<double> values) =>
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {(push ? "on" : "off")} | {change} | {Stats.Median(values):F0} | {Stats.Quantile(values, 0.9):F0} | {values.DefaultIfEmpty(double.NaN).Min():F0}–{values.DefaultIfEmpty(double.NaN).Max():F0} |"));

    private static async Task<(List<double> Registered, List<double> Deregistered)> MeasureAsync(bool push, int runs, int cacheMillis)
    {
        await using var emulator = await NacosEmulator.StartAsync(new NacosEmulatorOptions { CacheMillis = cacheMillis });
        await using var stable = await Backend.StartAsync();
        await using var moving = await Backend.StartAsync();
        emulator.RegisterInstance(Service, "127.0.0.1", stable.Port);

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["nacos:ServerAddresses:0"] = emulator.ServerAddress,
            ["nacos:RegisterEnabled"] = "false",
            ["nacos:UdpPushEnabled"] = push ? "true" : "false",
            ["nacos:SnapshotPath"] = Path.Combine(Path.GetTempPath(), "grayrelease-systembench", Guid.NewGuid().ToString("N")),
        });
        builder.Services.AddLogging();
        builder.AddGrayRelease().AddNacos();
        builder.Services.AddHttpClient(Service, client => client.BaseAddress = new Uri("http://" + Service)).AddGrayRelease();
        using var host = builder.Build();
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

        return (registered, deregistered);
    }
}
