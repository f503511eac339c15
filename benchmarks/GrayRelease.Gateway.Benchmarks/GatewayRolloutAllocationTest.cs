using System.Globalization;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Rollouts;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GrayRelease.Gateway.Benchmarks;

/// <summary>
/// Issue 14: bytes allocated per request by the gray gateway with a rollout running against the same gateway without one
/// (the set-up of <see cref="GatewayRolloutLoadTest"/>), and, with <c>all</c>, the rollout's parts one at a time so a
/// difference can be attributed: the engine without the observation step, the observation step without a rollout, and a
/// configured 1 % percentage without any rollout. All gateways run in one process at once (their background work, Nacos
/// connections and the engine's timers, weighs on every measurement alike); requests are sent one at a time; the backends
/// run in a child process. Every request carries an <c>X-User-Id</c> out of 1,000 (so the percentage rule works), half
/// of them the client's <c>gray</c> header (must reach v2).
/// </summary>
internal static class GatewayRolloutAllocationTest
{
    private const string WithoutRollout = "gray, no rollout";

    private static readonly (string Name, Variant Variant)[] Variants =
    [
        (WithoutRollout, new Variant(Rollout: false, RolloutEnabled: false, Observation: false, Percentage: false)),
        ("gray + rollout", new Variant(Rollout: true, RolloutEnabled: true, Observation: true, Percentage: false)),
        ("rollout engine, no observation", new Variant(Rollout: true, RolloutEnabled: true, Observation: false, Percentage: false)),
        ("observation only (rollout off)", new Variant(Rollout: true, RolloutEnabled: false, Observation: true, Percentage: false)),
        ("1 % configured, no rollout", new Variant(Rollout: false, RolloutEnabled: false, Observation: false, Percentage: true)),
    ];

    private static readonly string[] UserIds = Enumerable.Range(0, 1000).Select(n => "user-" + n.ToString(CultureInfo.InvariantCulture)).ToArray();

    public static async Task RunAsync(int requests, int rounds, bool all, bool types)
    {
        using var backends = await BackendProcess.StartAsync();
        await using var nacos = await NacosEmulator.StartAsync();
        using var sampler = types ? new AllocationSampler() : null;
        var windows = new List<(string Name, DateTime Start, DateTime End, int Requests)>();
        var variants = all ? Variants : Variants[..2];
        var gateways = new List<(string Name, GatewayLoadTest.Host Host)>();
        try
        {
            for (var i = 0; i < variants.Length; i++)
            {
                var (name, variant) = variants[i];
                var host = await StartGatewayAsync(nacos, backends.V1, backends.V2, variant, i);
                gateways.Add((name, host));
                if (variant.RolloutEnabled)
                {
                    await WaitForProgressingAsync(host.Services.GetRequiredService<IRolloutStatus>());
                }
            }

            Console.WriteLine($"{requests:N0} sequential requests per round, {rounds} rounds, {Environment.ProcessorCount} cores, .NET {Environment.Version}; backends in process {backends.ProcessId}");
            foreach (var (_, host) in gateways)
            {
                await SendAsync(host, Math.Max(2_000, requests / 5));
            }

            var results = gateways.ToDictionary(g => g.Name, _ => new List<double>());
            for (var round = 0; round < rounds; round++)
            {
                // Rotate the order each round, so no variant always follows the same one.
                for (var i = 0; i < gateways.Count; i++)
                {
                    var (name, host) = gateways[(i + round) % gateways.Count];
                    var started = DateTime.UtcNow;
                    var bytes = await SendAsync(host, requests);
                    windows.Add((name, started, DateTime.UtcNow, requests));
                    results[name].Add(bytes);
                    Console.WriteLine($"round {round + 1} {name,-32} {bytes,9:N1} B/request");
                }
            }

            foreach (var (name, host) in gateways)
            {
                if (host.Services.GetService<IRolloutStatus>() is { } status && variants.Single(v => v.Name == name).Variant.RolloutEnabled
                    && status.GetSnapshot().Status != RolloutStatus.Progressing)
                {
                    throw new InvalidOperationException($"{name}: the rollout is no longer progressing ({status.GetSnapshot().Status}).");
                }
            }

            Console.WriteLine();
            Console.WriteLine($"| gateway | median B/request | spread (min–max) | median − {WithoutRollout} |");
            Console.WriteLine("|---|---:|---:|---:|");
            var baseline = GatewayAllocationTest.Median(results[WithoutRollout]);
            foreach (var (name, _) in gateways)
            {
                var values = results[name].Order().ToArray();
                var median = GatewayAllocationTest.Median(values);
                Console.WriteLine($"| {name} | {median:N0} | {values[0]:N0}–{values[^1]:N0} | {median - baseline:+0;-0;0} |");
            }

            if (sampler is not null)
            {
                GatewayAllocationTest.PrintSamplesByType(sampler, windows, gateways.Select(g => g.Name).ToArray());
            }
        }
        finally
        {
            foreach (var (_, host) in gateways)
            {
                await host.DisposeAsync();
            }
        }
    }

    private static async Task<double> SendAsync(GatewayLoadTest.Host gateway, int requests)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < requests; i++)
        {
            var isGray = (i & 1) == 0;
            using var request = new HttpRequestMessage(HttpMethod.Get, "/orders/1");
            if (isGray)
            {
                request.Headers.TryAddWithoutValidation("gray", "gray-996");
            }

            request.Headers.TryAddWithoutValidation("X-User-Id", UserIds[i / 2 % UserIds.Length]);
            using var response = await gateway.Client.SendAsync(request, CancellationToken.None);
            var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
            // Without the header either version is right: the percentage sends some users to v2.
            if (!response.IsSuccessStatusCode || (isGray && body != "v2") || body is not ("v1" or "v2"))
            {
                throw new InvalidOperationException($"Unexpected answer {(int)response.StatusCode} '{body}'.");
            }
        }

        return (double)(GC.GetTotalAllocatedBytes(precise: true) - before) / requests;
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

    private static Task<GatewayLoadTest.Host> StartGatewayAsync(NacosEmulator nacos, string v1, string v2, Variant variant, int index)
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
        if (variant.Percentage)
        {
            config["GrayRelease:Gateway:Percentage"] = "1";
        }

        if (variant.Rollout)
        {
            config["GrayRelease:Gateway:Rollout:Enabled"] = variant.RolloutEnabled ? "true" : "false";
            // Long enough that no step is taken during the run: the cost measured is that of a rollout at its first step.
            config["GrayRelease:Gateway:Rollout:Interval"] = "01:00:00";
            // Each gateway its own rollout: gateways sharing one would share one leader.
            config["GrayRelease:Gateway:Rollout:StateDataId"] = $"rollout-{index}.json";
            config["GrayRelease:Gateway:Rollout:LeaseDataId"] = $"rollout-lease-{index}.json";
        }

        return GatewayLoadTest.StartAsync(
            builder =>
            {
                builder.Configuration.AddInMemoryCollection(config);
                builder.Services.AddGrayRelease(builder.Configuration).AddNacos();
                var proxy = builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy")).AddGrayRelease();
                if (variant.Rollout)
                {
                    proxy.AddGrayReleaseRollout();
                }
            },
            app =>
            {
                app.MapReverseProxy(p =>
                {
                    p.UseGrayRouting();
                    if (variant.Observation)
                    {
                        p.UseGrayReleaseObservation();
                    }
                });
            });
    }

    /// <param name="Rollout">AddGrayReleaseRollout().</param>
    /// <param name="RolloutEnabled">GrayRelease:Gateway:Rollout:Enabled (Progressing at its first step, 1 %).</param>
    /// <param name="Observation">UseGrayReleaseObservation() in the proxy pipeline.</param>
    /// <param name="Percentage">GrayRelease:Gateway:Percentage = 1 configured (the rule a rollout's first step sets).</param>
    private sealed record Variant(bool Rollout, bool RolloutEnabled, bool Observation, bool Percentage);
}
