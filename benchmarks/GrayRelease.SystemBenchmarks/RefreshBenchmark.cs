using System.Diagnostics;
using System.IO.Compression;
using GrayRelease.Discovery;
using GrayRelease.LoadBalancing;
using GrayRelease.Nacos.Emulator;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GrayRelease.SystemBenchmarks;

/// <summary>
/// (b) The cost of one registry refresh of a service with many instances: (1) the load balancer turning an
/// <see cref="IServiceInstanceProvider.InstancesChanged"/> list into its routing table, on the benchmark's own thread
/// (time and exact allocations); (2) the whole path from a change in Nacos (the emulator) through the list answer,
/// its parsing and the event to the rebuilt table (time; allocations process-wide).
/// </summary>
internal static class RefreshBenchmark
{
    private const string Service = "bench-app";

    public static async Task RunAsync(int instances, int runs, TextWriter output)
    {
        output.WriteLine($"## (b) Registry refresh of one service with {instances:N0} instances ({runs} runs each)");
        output.WriteLine();
        output.WriteLine("| path | time per refresh, ms: median (min–max) | allocated per refresh, KB: median (min–max) | notes |");
        output.WriteLine("|---|---|---|---|");
        await LoadBalancerOnlyAsync(instances, runs, output);
        await ThroughNacosAsync(instances, Math.Max(5, runs / 2), push: true, output);
        await ThroughNacosAsync(instances, Math.Max(5, runs / 2), push: false, output);
        output.WriteLine();
    }

    private static async Task LoadBalancerOnlyAsync(int instances, int runs, TextWriter output)
    {
        var lists = Enumerable.Range(0, runs + 3).Select(run => Build(instances, changedWeight: 1 + (run % 2))).ToArray();
        var provider = new ManualInstanceProvider(Service, lists[0]);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IServiceInstanceProvider>(provider);
        services.AddGrayRelease(Configuration(new()));
        await using var container = services.BuildServiceProvider();
        var balancer = container.GetRequiredService<IGrayLoadBalancer>();
        await balancer.PickAsync(Service, GrayStatus.Gray);

        var times = new List<double>();
        var allocations = new List<double>();
        for (var run = 1; run < lists.Length; run++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var started = Stopwatch.GetTimestamp();
            provider.Raise(lists[run]);
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var bytes = GC.GetAllocatedBytesForCurrentThread() - allocated;
            var picked = await balancer.PickAsync(Service, GrayStatus.Gray);
            if (picked is null || !ReferenceEquals(lists[run].FirstOrDefault(i => ReferenceEquals(i, picked)), picked))
            {
                throw new InvalidOperationException("The load balancer did not switch to the new list.");
            }

            if (run > 2)
            {
                // The first two builds warm up the JIT.
                times.Add(elapsed);
                allocations.Add(bytes / 1024.0);
            }
        }

        output.WriteLine($"| InstancesChanged → load balancer table | {Stats.Spread(times, "F2")} | {Stats.Spread(allocations, "F0")} | exact (GC.GetAllocatedBytesForCurrentThread); half V1, half V2; every instance a new object, one weight changed |");
    }

    private static async Task ThroughNacosAsync(int instances, int runs, bool push, TextWriter output)
    {
        await using var emulator = await NacosEmulator.StartAsync(new NacosEmulatorOptions { CacheMillis = 1000 });
        for (var i = 0; i < instances; i++)
        {
            emulator.RegisterInstance(Service, Ip(i), 8080, new Dictionary<string, string> { ["version"] = i % 2 == 0 ? "V1" : "V2" });
        }

        var (raw, gzip) = await AnswerSizeAsync(emulator);
        if (push)
        {
            await ServerSideBaselineAsync(emulator, runs, output);
            await FirstLookupAsync(emulator, runs, raw, output);
        }

        using var host = BuildClientHost(emulator, push);
        var balancer = host.Services.GetRequiredService<IGrayLoadBalancer>();
        var provider = host.Services.GetRequiredService<IServiceInstanceProvider>();
        TaskCompletionSource<int>? changed = null;

        // Subscribed after the load balancer: when this runs, the balancer's table for the same event is built.
        provider.InstancesChanged += (_, e) =>
        {
            if (e.ServiceName == Service)
            {
                Volatile.Read(ref changed)?.TrySetResult(e.Instances.Count);
            }
        };
        await balancer.PickAsync(Service, GrayStatus.Prod);

        var times = new List<double>();
        var allocations = new List<double>();
        var timeouts = 0;
        for (var run = 0; run < runs + 1; run++)
        {
            var signal = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref changed, signal);
            GC.Collect();
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var started = Stopwatch.GetTimestamp();
            // 1 → 2 → 1 ...: every run really changes the list.
            emulator.SetInstanceWeight(Service, Ip(0), 8080, run % 2 == 0 ? 2 : 1);
            try
            {
                await signal.Task.WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (TimeoutException)
            {
                timeouts++;
                continue;
            }

            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var bytes = GC.GetTotalAllocatedBytes(precise: true) - allocated;
            if (run > 0)
            {
                times.Add(elapsed);
                allocations.Add(bytes / 1024.0);
            }
        }

        output.WriteLine($"| emulator change → list answer ({raw / 1024:N0} KB JSON, {gzip / 1024:N0} KB gzip) → parse → InstancesChanged → table, UDP push {(push ? "on" : "off")} | {Stats.Spread(times, "F0")} | {Stats.Spread(allocations, "F0")} | latency from the change, so it includes waiting for the next poll (period 1 s) or the push; allocations process-wide, emulator included{(timeouts > 0 ? $"; {timeouts} change(s) not seen within 30 s" : "")} |");
    }

    /// <summary>What the emulator alone costs (in this same process) to answer one list request: subtract it from the rows below.</summary>
    private static async Task ServerSideBaselineAsync(NacosEmulator emulator, int runs, TextWriter output)
    {
        using var http = new HttpClient();
        var uri = new Uri(emulator.BaseAddress, $"v1/ns/instance/list?serviceName={Service}");
        var times = new List<double>();
        var allocations = new List<double>();
        for (var run = 0; run <= runs; run++)
        {
            GC.Collect();
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var started = Stopwatch.GetTimestamp();
            using (var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead))
            await using (var body = await response.Content.ReadAsStreamAsync())
            {
                await body.CopyToAsync(Stream.Null);
            }

            if (run > 0)
            {
                times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                allocations.Add((GC.GetTotalAllocatedBytes(precise: true) - allocated) / 1024.0);
            }
        }

        output.WriteLine($"| baseline: the emulator answering one list request, body discarded (server side of the rows below) | {Stats.Spread(times, "F0")} | {Stats.Spread(allocations, "F0")} | process-wide |");
    }

    /// <summary>A fresh client's first lookup: one list request, its parsing into instances, and the load balancer's table.</summary>
    private static async Task FirstLookupAsync(NacosEmulator emulator, int runs, long raw, TextWriter output)
    {
        var times = new List<double>();
        var allocations = new List<double>();
        for (var run = 0; run <= runs; run++)
        {
            using var host = BuildClientHost(emulator, push: false);
            var balancer = host.Services.GetRequiredService<IGrayLoadBalancer>();
            GC.Collect();
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var started = Stopwatch.GetTimestamp();
            if (await balancer.PickAsync(Service, GrayStatus.Gray) is null)
            {
                throw new InvalidOperationException("The first lookup found no instance.");
            }

            if (run > 0)
            {
                times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                allocations.Add((GC.GetTotalAllocatedBytes(precise: true) - allocated) / 1024.0);
            }
        }

        output.WriteLine($"| first lookup of a fresh client: list request → {raw / 1024:N0} KB JSON parsed → {emulator.GetInstances(Service).Count:N0} instances → table (+ disk snapshot) | {Stats.Spread(times, "F0")} | {Stats.Spread(allocations, "F0")} | process-wide; subtract the baseline for the client's share |");
    }

    private static IHost BuildClientHost(NacosEmulator emulator, bool push)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddConfiguration(Configuration(new()
        {
            ["nacos:ServerAddresses:0"] = emulator.ServerAddress,
            ["nacos:RegisterEnabled"] = "false",
            ["nacos:UdpPushEnabled"] = push ? "true" : "false",
            ["nacos:SnapshotPath"] = Path.Combine(Path.GetTempPath(), "grayrelease-systembench", Guid.NewGuid().ToString("N")),
        }));
        builder.Services.AddLogging();
        builder.AddGrayRelease().AddNacos();
        return builder.Build();
    }

    private static async Task<(long Raw, long Gzip)> AnswerSizeAsync(NacosEmulator emulator)
    {
        using var http = new HttpClient();
        var body = await http.GetByteArrayAsync(new Uri(emulator.BaseAddress, $"v1/ns/instance/list?serviceName={Service}"));
        using var compressed = new MemoryStream();
        await using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            await gzip.WriteAsync(body);
        }

        return (body.Length, compressed.Length);
    }

    private static IConfiguration Configuration(Dictionary<string, string?> extra)
    {
        extra["GrayRelease:ProdVersion"] = "V1";
        extra["GrayRelease:GrayVersion"] = "V2";
        return new ConfigurationBuilder().AddInMemoryCollection(extra).Build();
    }

    private static ServiceInstance[] Build(int count, double changedWeight)
    {
        var list = new ServiceInstance[count];
        for (var i = 0; i < count; i++)
        {
            list[i] = new ServiceInstance
            {
                ServiceName = Service,
                Host = Ip(i),
                Port = 8080,
                Weight = i == 0 ? changedWeight : 1,
                InstanceId = Ip(i) + "#8080#DEFAULT#DEFAULT_GROUP@@" + Service,
                Metadata = new Dictionary<string, string> { ["version"] = i % 2 == 0 ? "V1" : "V2" },
            };
        }

        return list;
    }

    private static string Ip(int i) => $"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}";
}
