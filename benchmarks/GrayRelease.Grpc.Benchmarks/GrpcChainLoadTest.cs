using Grpc.Core;
using GrayRelease.Benchmarks;
using GrayRelease.Grpc.Benchmarks.Protos;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GrayRelease.Grpc.Benchmarks;

/// <summary>
/// Throughput of a gRPC call chain, gray versus plain, in one run: client → service A (two instances, v1 and v2) →
/// service B (four instances, v1, v1, v2, v2, in a child process). Gray chain: the client is a gray client
/// (<c>nacos://service-a</c>), A runs <c>UseGrayRelease()</c> and calls B through its own gray client
/// (<c>nacos://service-b</c>). Plain chain: Grpc.Net.Client <c>round_robin</c> channels at both hops, no middleware.
/// Both chains get the same calls, half in a GRAY and half in a PROD <see cref="GrayContext"/>; A answers
/// "&lt;A's version&gt;/&lt;B's version&gt;", so every gray-chain reply is checked (GRAY: v2/v2, PROD: v1/v1).
/// Rounds alternate ABBA so both chains see the same machine conditions.
/// </summary>
internal static class GrpcChainLoadTest
{
    private const string Gray = "gray chain";
    private const string Plain = "plain chain";

    public static async Task RunAsync(TimeSpan roundDuration, int concurrency, int rounds)
    {
        using var servers = await ServerProcess.StartAsync();
        var grayA = new List<(WebApplication App, Uri Address)>();
        var plainA = new List<(WebApplication App, Uri Address)>();
        foreach (var version in new[] { "v1", "v2" })
        {
            grayA.Add(await StartServiceAAsync(version, servers.Backends, gray: true));
            plainA.Add(await StartServiceAAsync(version, servers.Backends, gray: false));
        }

        await using var grayClient = Clients.Gray("service-a", grayA.Select((a, i) => new Backend(i == 0 ? "v1" : "v2", a.Address)));
        await using var plainClient = Clients.Plain("service-a", plainA.Select((a, i) => new Backend(i == 0 ? "v1" : "v2", a.Address)));
        var chains = new Dictionary<string, Bench.BenchClient>
        {
            [Gray] = grayClient.GetRequiredService<Bench.BenchClient>(),
            [Plain] = plainClient.GetRequiredService<Bench.BenchClient>(),
        };

        Console.WriteLine($"Round {roundDuration.TotalSeconds:0} s, {concurrency} concurrent callers, {Environment.ProcessorCount} cores, .NET {Environment.Version}, load average {ClosedLoopLoad.LoadAverage()}");

        // A full round each first, so tiered compilation has settled and every connection is open.
        await MeasureAsync("warm-up plain", chains[Plain], roundDuration, concurrency, check: false);
        await MeasureAsync("warm-up gray", chains[Gray], roundDuration, concurrency, check: true);

        var results = new List<(string Name, Result Result)>();
        for (var round = 0; round < rounds; round++)
        {
            // ABBA: neither chain always runs first (warmer caches) or last (a drifting machine).
            var order = round % 2 == 0 ? new[] { Plain, Gray } : [Gray, Plain];
            foreach (var name in order)
            {
                results.Add((name, await MeasureAsync($"{name} #{round + 1}", chains[name], roundDuration, concurrency, check: name == Gray)));
            }
        }

        Summarize(results);
        Console.WriteLine($"load average after: {ClosedLoopLoad.LoadAverage()}");
        foreach (var (app, _) in grayA.Concat(plainA))
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static void Summarize(List<(string Name, Result Result)> results)
    {
        Console.WriteLine();
        Console.WriteLine("| chain | median calls/s | spread (min–max) | median p50 ms | median p99 ms | median B/call (client + service A) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        var medians = new Dictionary<string, double>();
        foreach (var group in results.GroupBy(r => r.Name))
        {
            var rps = group.Select(r => r.Result.CallsPerSecond).Order().ToArray();
            var p50 = group.Select(r => r.Result.P50).Order().ToArray();
            var p99 = group.Select(r => r.Result.P99).Order().ToArray();
            var bytes = group.Select(r => r.Result.BytesPerCall).Order().ToArray();
            medians[group.Key] = rps[rps.Length / 2];
            Console.WriteLine($"| {group.Key} | {rps[rps.Length / 2]:N0} | {rps[0]:N0}–{rps[^1]:N0} | {p50[p50.Length / 2]:N2} | {p99[p99.Length / 2]:N2} | {bytes[bytes.Length / 2]:N0} |");
        }

        Console.WriteLine();
        Console.WriteLine($"{Gray} / {Plain} (medians of {results.Count / 2} rounds): {100 * medians[Gray] / medians[Plain]:N1} %");

        // Each round measures both chains back to back: the ratio within a round is less exposed to a machine whose load
        // drifts between rounds (other work on it) than the ratio of medians taken over all rounds.
        var ratios = Enumerable.Range(0, results.Count / 2)
            .Select(round => results.Skip(2 * round).Take(2).ToDictionary(r => r.Name, r => r.Result.CallsPerSecond))
            .Select(pair => 100 * pair[Gray] / pair[Plain])
            .Order()
            .ToArray();
        Console.WriteLine($"{Gray} / {Plain} within each round: median {ratios[ratios.Length / 2]:N1} % (spread {ratios[0]:N1}–{ratios[^1]:N1} %)");
        Console.WriteLine($"calls: {results.Sum(r => r.Result.Calls):N0}, failed calls: {results.Sum(r => r.Result.Failed)}, wrong versions (gray chain, every call checked): {results.Where(r => r.Name == Gray).Sum(r => r.Result.Wrong)}");
    }

    private static async Task<Result> MeasureAsync(string name, Bench.BenchClient client, TimeSpan duration, int concurrency, bool check)
    {
        var wrong = 0;
        var failed = 0;
        var request = new WhoRequest();
        var figures = await ClosedLoopLoad.RunAsync(duration, concurrency, async n =>
        {
            var status = (n & 1) == 0 ? GrayStatus.Gray : GrayStatus.Prod;
            try
            {
                WhoReply reply;
                using (GrayContext.Begin(status))
                {
                    reply = await client.RelayAsync(request, deadline: DateTime.UtcNow.AddSeconds(30));
                }

                if (check && reply.Version != (status == GrayStatus.Gray ? "v2/v2" : "v1/v1"))
                {
                    Interlocked.Increment(ref wrong);
                }

                return true;
            }
            catch (RpcException)
            {
                Interlocked.Increment(ref failed);
                return false;
            }
        });

        var result = new Result(figures.Calls, figures.PerSecond, figures.P50, figures.P99, figures.BytesPerCall, failed, wrong);
        Console.WriteLine($"{name,-16} {result.CallsPerSecond,9:N0} calls/s   p50 {result.P50,6:N2} ms   p99 {result.P99,6:N2} ms   {result.BytesPerCall,7:N0} B/call   wrong {wrong}   failed {failed}");
        return result;
    }

    private static async Task<(WebApplication App, Uri Address)> StartServiceAAsync(string version, IReadOnlyList<Backend> serviceB, bool gray)
    {
        return await ServerProcess.StartHostAsync(
            builder =>
            {
                builder.Services.AddSingleton(new ServerProcess.Version(version));
                if (gray)
                {
                    var settings = new Dictionary<string, string?>
                    {
                        ["GrayRelease:Version"] = version,
                        ["GrayRelease:ProdVersion"] = "v1",
                        ["GrayRelease:GrayVersion"] = "v2",
                    };
                    Clients.AddInstances(settings, "service-b", serviceB);
                    builder.Configuration.AddInMemoryCollection(settings);
                    builder.Services.AddGrayRelease(builder.Configuration);
                    builder.Services.AddGrpcClient<Bench.BenchClient>(o => o.Address = new Uri("nacos://service-b")).AddGrayReleaseGrpc();
                }
                else
                {
                    Clients.ConfigurePlain(builder.Services, "service-b", serviceB);
                }
            },
            app =>
            {
                if (gray)
                {
                    app.UseGrayRelease();
                }

                app.MapGrpcService<RelayService>();
            });
    }

    private sealed record Result(int Calls, double CallsPerSecond, double P50, double P99, long BytesPerCall, int Failed, int Wrong);

    /// <summary>Service A: calls Who on service B through its client (gray or plain) and answers both versions.</summary>
    private sealed class RelayService(Bench.BenchClient serviceB, ServerProcess.Version version) : Bench.BenchBase
    {
        public override async Task<WhoReply> Relay(WhoRequest request, ServerCallContext context)
        {
            var reply = await serviceB.WhoAsync(request, deadline: context.Deadline, cancellationToken: context.CancellationToken);
            return new WhoReply { Version = version.Value + "/" + reply.Version };
        }
    }
}
