using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using GrayRelease.Grpc.Balancing;
using GrayRelease.Grpc.Benchmarks.Protos;
using GrayRelease.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace GrayRelease.Grpc.Benchmarks;

/// <summary>
/// `probe [calls] [rounds]`: sequential unary calls through each client variant (servers in a child process), rounds
/// rotated, time and bytes per call of this process; the variants take the gray client apart (propagation handler only,
/// gray policy only), to see where a difference comes from. A diagnostic, quicker and less precise than BenchmarkDotNet.
/// </summary>
internal static class CallProbe
{
    public static async Task RunAsync(int calls, int rounds)
    {
        using var servers = await ServerProcess.StartAsync();
        var variants = new List<(string Name, ServiceProvider Services)>
        {
            ("plain round_robin", Clients.Plain("bench", servers.Backends)),
            ("gray (AddGrayReleaseGrpc)", Clients.Gray("bench", servers.Backends)),
            ("round_robin + propagation handler", HandlerOnly(servers.Backends)),
            ("gray policy, no interceptor", PolicyOnly(servers.Backends)),
        };
        var clients = variants.Select(v => (v.Name, Client: v.Services.GetRequiredService<Bench.BenchClient>())).ToArray();
        var results = clients.ToDictionary(c => c.Name, _ => new List<(double Us, double Bytes)>());
        var request = new WhoRequest();
        for (var round = -1; round < rounds; round++)
        {
            for (var k = 0; k < clients.Length; k++)
            {
                var (name, client) = clients[(k + Math.Max(round, 0)) % clients.Length];
                var status = GrayStatus.Gray;
                var before = GC.GetTotalAllocatedBytes(precise: true);
                var started = Stopwatch.GetTimestamp();
                for (var i = 0; i < calls; i++)
                {
                    status = status == GrayStatus.Gray ? GrayStatus.Prod : GrayStatus.Gray;
                    using var scope = GrayContext.Begin(status);
                    await client.WhoAsync(request);
                }

                var elapsed = Stopwatch.GetElapsedTime(started);
                var bytes = GC.GetTotalAllocatedBytes(precise: true) - before;
                if (round >= 0)
                {
                    results[name].Add((elapsed.TotalMicroseconds / calls, (double)bytes / calls));
                }
            }
        }

        Console.WriteLine($"{calls} sequential calls per round, {rounds} rounds, load average {File.ReadAllText("/proc/loadavg").Trim()}");
        foreach (var (name, list) in results)
        {
            var us = list.Select(r => r.Us).Order().ToArray();
            var bytes = list.Select(r => r.Bytes).Order().ToArray();
            Console.WriteLine($"{name,-32} median {us[us.Length / 2],8:N1} µs/call ({us[0]:N1}–{us[^1]:N1})   median {bytes[bytes.Length / 2],8:N0} B/call ({bytes[0]:N0}–{bytes[^1]:N0})");
        }

        foreach (var (_, services) in variants)
        {
            await services.DisposeAsync();
        }
    }

    /// <summary>
    /// `paired [pairs]`: the plain and the gray client call in turns (the order swapped every pair, GRAY and PROD
    /// alternating), each call timed on its own; reports the median of each and the median of the per-pair differences,
    /// which a load on the machine that drifts over seconds affects much less than two separate runs.
    /// </summary>
    public static async Task RunPairedAsync(int pairs, string baseline = "plain", string measured = "gray")
    {
        using var servers = await ServerProcess.StartAsync();
        await using var plainServices = Variant(baseline, servers.Backends);
        await using var grayServices = Variant(measured, servers.Backends);
        var plain = Caller(baseline, plainServices.GetRequiredService<Bench.BenchClient>());
        var gray = Caller(measured, grayServices.GetRequiredService<Bench.BenchClient>());
        var request = new WhoRequest();
        var plainUs = new double[pairs];
        var grayUs = new double[pairs];
        var loadBefore = File.ReadAllText("/proc/loadavg").Trim();
        for (var i = -5_000; i < pairs; i++)
        {
            var status = (i & 1) == 0 ? GrayStatus.Gray : GrayStatus.Prod;
            using var scope = GrayContext.Begin(status);
            double p, g;
            if ((i & 2) == 0)
            {
                p = await TimeAsync(plain, request);
                g = await TimeAsync(gray, request);
            }
            else
            {
                g = await TimeAsync(gray, request);
                p = await TimeAsync(plain, request);
            }

            if (i >= 0)
            {
                (plainUs[i], grayUs[i]) = (p, g);
            }
        }

        var differences = plainUs.Zip(grayUs, (p, g) => g - p).Order().ToArray();
        Console.WriteLine($"{pairs:N0} pairs of sequential calls (after 5,000 warm-up pairs), load average {loadBefore} → {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine($"{baseline,-8} median {Median(plainUs),7:N1} µs   p25–p75 {Quantile(plainUs, 0.25):N1}–{Quantile(plainUs, 0.75):N1}");
        Console.WriteLine($"{measured,-8} median {Median(grayUs),7:N1} µs   p25–p75 {Quantile(grayUs, 0.25):N1}–{Quantile(grayUs, 0.75):N1}");
        Console.WriteLine($"{measured} − {baseline}, per pair: median {differences[differences.Length / 2]:N2} µs   p25–p75 {differences[differences.Length / 4]:N2}–{differences[differences.Length * 3 / 4]:N2}");

        static async Task<double> TimeAsync(Func<WhoRequest, Task> call, WhoRequest request)
        {
            var started = Stopwatch.GetTimestamp();
            await call(request);
            return Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        }

        static double Median(double[] values) => Quantile(values, 0.5);

        static double Quantile(double[] values, double q)
        {
            var sorted = values.Order().ToArray();
            return sorted[(int)(q * (sorted.Length - 1))];
        }
    }

    // The caller's own metadata, made once: what putting a gray header on the wire costs without any gray code.
    private static readonly Metadata GrayHeader = new() { { "gray", "GRAY" } };

    private static Func<WhoRequest, Task> Caller(string variant, Bench.BenchClient client) => variant is "header" or "header-core"
        ? async request => await client.WhoAsync(request, GrayHeader)
        : async request => await client.WhoAsync(request);

    /// <summary>
    /// plain, gray, handler (round_robin + propagation handler), policy (gray policy, no metadata), header (plain, the
    /// caller passing a gray header it made once), header-core (the same in a container with AddGrayRelease).
    /// </summary>
    private static ServiceProvider Variant(string name, IReadOnlyList<Backend> backends) => name switch
    {
        "plain" or "header" => Clients.Plain("bench", backends),
        "header-core" => PlainWithCore(backends),
        "gray" => Clients.Gray("bench", backends),
        "handler" => HandlerOnly(backends),
        "policy" => PolicyOnly(backends),
        _ => throw new ArgumentException($"Unknown variant '{name}': plain, gray, handler or policy.", nameof(name)),
    };

    // The plain client in a container that also has the gray core (AddGrayRelease: options, metrics, HttpClient set-up).
    private static ServiceProvider PlainWithCore(IReadOnlyList<Backend> backends)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddGrayRelease(new ConfigurationBuilder().Build());
        Clients.ConfigurePlain(services, "bench", backends);
        return services.BuildServiceProvider();
    }

    private static ServiceProvider HandlerOnly(IReadOnlyList<Backend> backends)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddGrayRelease(new ConfigurationBuilder().Build());
        Clients.ConfigurePlain(services, "bench", backends);
        services.AddGrpcClient<Bench.BenchClient>(o => { }).AddHttpMessageHandler<GrayPropagationHandler>();
        return services.BuildServiceProvider();
    }

    private static ServiceProvider PolicyOnly(IReadOnlyList<Backend> backends)
    {
        var settings = new Dictionary<string, string?> { ["GrayRelease:ProdVersion"] = "v1", ["GrayRelease:GrayVersion"] = "v2" };
        Clients.AddInstances(settings, "bench", backends);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddGrayRelease(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.TryAddSingleton<GrayOptionsSnapshot>();
        services.AddSingleton<ResolverFactory, GrayResolverFactory>();
        services.AddSingleton<LoadBalancerFactory, GrayLoadBalancerFactory>();
        services.AddGrpcClient<Bench.BenchClient>(o => o.Address = new Uri("nacos://bench")).ConfigureChannel(o =>
        {
            o.Credentials = ChannelCredentials.Insecure;
            o.ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new LoadBalancingConfig(GrayGrpcNames.Policy) } };
        });
        return services.BuildServiceProvider();
    }
}
