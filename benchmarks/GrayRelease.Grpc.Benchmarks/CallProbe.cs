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
