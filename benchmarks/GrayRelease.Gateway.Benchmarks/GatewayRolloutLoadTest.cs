using System.Globalization;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Rollouts;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GrayRelease.Gateway.Benchmarks;

/// <summary>
/// Issue 14: end-to-end throughput of the gray gateway with a rollout running (<c>AddGrayReleaseRollout()</c> +
/// <c>UseGrayReleaseObservation()</c>, the rollout Enabled and Progressing, its state in an in-process Nacos emulator)
/// against the same gateway without one. Both gateways have the same configuration and the same Nacos client, so the
/// only difference is the rollout; the backends run in a child process; rounds alternate (ABBA).
/// </summary>
internal static class GatewayRolloutLoadTest
{
    private const string WithRollout = "gray + rollout";
    private const string WithoutRollout = "gray, no rollout";

    public static async Task RunAsync(TimeSpan roundDuration, int concurrency, int rounds)
    {
        using var backends = await BackendProcess.StartAsync();
        await using var nacos = await NacosEmulator.StartAsync();
        await using var plain = await StartGatewayAsync(nacos, backends.V1, backends.V2, rollout: false);
        await using var rolling = await StartGatewayAsync(nacos, backends.V1, backends.V2, rollout: true);
        var status = rolling.Services.GetRequiredService<IRolloutStatus>();
        await WaitForProgressingAsync(status);

        Console.WriteLine($"Round {roundDuration.TotalSeconds:0} s, {concurrency} concurrent clients, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        Console.WriteLine($"rollout: {Describe(status)}");
        await GatewayLoadTest.MeasureAsync("warm-up no rollout", plain, roundDuration, concurrency, checkVersion: true, userIds: true);
        await GatewayLoadTest.MeasureAsync("warm-up rollout", rolling, roundDuration, concurrency, checkVersion: true, grayHeaderOnly: true, userIds: true);

        var results = new List<(string Name, GatewayLoadTest.Result Result)>();
        for (var round = 0; round < rounds; round++)
        {
            // ABBA order: neither side always runs first (warmer caches) or last (a drifting machine).
            if (round % 2 == 0)
            {
                results.Add((WithoutRollout, await GatewayLoadTest.MeasureAsync($"no rollout #{round + 1}", plain, roundDuration, concurrency, checkVersion: true, userIds: true)));
                results.Add((WithRollout, await GatewayLoadTest.MeasureAsync($"rollout    #{round + 1}", rolling, roundDuration, concurrency, checkVersion: true, grayHeaderOnly: true, userIds: true)));
            }
            else
            {
                results.Add((WithRollout, await GatewayLoadTest.MeasureAsync($"rollout    #{round + 1}", rolling, roundDuration, concurrency, checkVersion: true, grayHeaderOnly: true, userIds: true)));
                results.Add((WithoutRollout, await GatewayLoadTest.MeasureAsync($"no rollout #{round + 1}", plain, roundDuration, concurrency, checkVersion: true, userIds: true)));
            }

            // A rollout that stopped (rolled back, paused, promoted) would no longer be the case being measured.
            if (status.GetSnapshot().Status != RolloutStatus.Progressing)
            {
                throw new InvalidOperationException($"The rollout is no longer progressing: {Describe(status)}.");
            }
        }

        Console.WriteLine($"rollout at the end: {Describe(status)}");
        GatewayLoadTest.Summarize(results, WithRollout, WithoutRollout);
    }

    private static string Describe(IRolloutStatus status)
    {
        var snapshot = status.GetSnapshot();
        return $"{snapshot.Status?.ToString() ?? "none"}, {snapshot.Percentage?.ToString(CultureInfo.InvariantCulture) ?? "-"} %";
    }

    private static async Task WaitForProgressingAsync(IRolloutStatus status)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (status.GetSnapshot().Status != RolloutStatus.Progressing)
        {
            // Polled with a timeout: the engine writes the state to Nacos on its first tick, then publishes its snapshot.
            await Task.Delay(50, timeout.Token);
        }
    }

    private static Task<GatewayLoadTest.Host> StartGatewayAsync(NacosEmulator nacos, string v1, string v2, bool rollout)
    {
        var config = new Dictionary<string, string?>
        {
            ["nacos:ServerAddresses:0"] = nacos.ServerAddress,
            ["nacos:GrpcPort"] = nacos.GrpcPort.ToString(CultureInfo.InvariantCulture),
            ["nacos:Transport"] = "Grpc",
            ["nacos:RegisterEnabled"] = "false",
            ["GrayRelease:ProdVersion"] = "v1",
            ["GrayRelease:GrayVersion"] = "v2",
            ["GrayRelease:Gateway:Enabled"] = "true",
            ["GrayRelease:Gateway:IpList:0"] = "10.0.0.0/8",
            ["GrayRelease:Gateway:UserIdHeader"] = "X-User-Id",
            ["ReverseProxy:Routes:orders:ClusterId"] = "orders",
            ["ReverseProxy:Routes:orders:Match:Path"] = "/orders/{**rest}",
            ["ReverseProxy:Clusters:orders:LoadBalancingPolicy"] = "GrayRoundRobin",
            ["ReverseProxy:Clusters:orders:Destinations:v1:Address"] = v1,
            ["ReverseProxy:Clusters:orders:Destinations:v1:Metadata:version"] = "v1",
            ["ReverseProxy:Clusters:orders:Destinations:v2:Address"] = v2,
            ["ReverseProxy:Clusters:orders:Destinations:v2:Metadata:version"] = "v2",
        };
        if (rollout)
        {
            config["GrayRelease:Gateway:Rollout:Enabled"] = "true";
            // Long enough that no step is taken during the run: the cost measured is that of a rollout at its first step.
            config["GrayRelease:Gateway:Rollout:Interval"] = "01:00:00";
        }

        return GatewayLoadTest.StartAsync(
            builder =>
            {
                builder.Configuration.AddInMemoryCollection(config);
                builder.Services.AddGrayRelease(builder.Configuration).AddNacos();
                var proxy = builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy")).AddGrayRelease();
                if (rollout)
                {
                    proxy.AddGrayReleaseRollout();
                }
            },
            app =>
            {
                app.MapReverseProxy(p =>
                {
                    p.UseGrayRouting();
                    if (rollout)
                    {
                        p.UseGrayReleaseObservation();
                    }
                });
            });
    }
}
