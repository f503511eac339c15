using System.Net;
using GrayRelease.Benchmarks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Gateway.Benchmarks;

/// <summary>
/// End-to-end throughput of two gateways over the same two services (v1, v2, in a child process), in one process and one
/// run: plain YARP (round-robin, no gray) and the gray pipeline (decision + version filter + GrayRoundRobin). Both receive
/// the same requests, half of them with the client's <c>gray: gray-996</c> header (plain YARP passes it on, the gray
/// pipeline turns it into GRAY). Rounds alternate between the two so both see the same machine conditions.
/// </summary>
internal static class GatewayLoadTest
{
    public static async Task RunAsync(TimeSpan roundDuration, int concurrency, int rounds = 5)
    {
        using var backends = await BackendProcess.StartAsync();
        await using var plain = await StartGatewayAsync(backends.V1, backends.V2, gray: false);
        await using var gray = await StartGatewayAsync(backends.V1, backends.V2, gray: true);

        Console.WriteLine($"Round {roundDuration.TotalSeconds:0} s, {concurrency} concurrent clients, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        // A full round each, so tiered compilation has settled before the first measured round (plain YARP runs first).
        await MeasureAsync("warm-up plain", plain, roundDuration, concurrency, checkVersion: false);
        await MeasureAsync("warm-up gray", gray, roundDuration, concurrency, checkVersion: true);

        var results = new List<(string Name, Result Result)>();
        for (var round = 0; round < rounds; round++)
        {
            // ABBA order: neither side always runs first (warmer caches) or last (a drifting machine).
            if (round % 2 == 0)
            {
                results.Add(("plain YARP", await MeasureAsync($"plain YARP   #{round + 1}", plain, roundDuration, concurrency, checkVersion: false)));
                results.Add(("gray pipeline", await MeasureAsync($"gray pipeline #{round + 1}", gray, roundDuration, concurrency, checkVersion: true)));
            }
            else
            {
                results.Add(("gray pipeline", await MeasureAsync($"gray pipeline #{round + 1}", gray, roundDuration, concurrency, checkVersion: true)));
                results.Add(("plain YARP", await MeasureAsync($"plain YARP   #{round + 1}", plain, roundDuration, concurrency, checkVersion: false)));
            }
        }

        Summarize(results, "gray pipeline", "plain YARP");
    }

    /// <summary>Prints the medians and spreads of interleaved rounds and the ratio <paramref name="measured"/> / <paramref name="baseline"/>.</summary>
    internal static void Summarize(List<(string Name, Result Result)> results, string measured, string baseline)
    {
        Console.WriteLine();
        Console.WriteLine("| gateway | median req/s | spread (min–max) | median p50 ms | median p99 ms | median B/request (gateway + client process) |");
        Console.WriteLine("|---|---|---|---|---|---|");
        var medians = new Dictionary<string, double>();
        foreach (var group in results.GroupBy(r => r.Name))
        {
            var rps = group.Select(r => r.Result.RequestsPerSecond).Order().ToArray();
            var p50 = group.Select(r => r.Result.P50).Order().ToArray();
            var p99 = group.Select(r => r.Result.P99).Order().ToArray();
            var bytes = group.Select(r => r.Result.BytesPerRequest).Order().ToArray();
            medians[group.Key] = rps[rps.Length / 2];
            Console.WriteLine($"| {group.Key} | {rps[rps.Length / 2]:N0} | {rps[0]:N0}–{rps[^1]:N0} | {p50[p50.Length / 2]:N2} | {p99[p99.Length / 2]:N2} | {bytes[bytes.Length / 2]:N0} |");
        }

        Console.WriteLine();
        Console.WriteLine($"{measured} / {baseline} (medians): {100 * medians[measured] / medians[baseline]:N1} %");
        Console.WriteLine($"failed requests: {results.Sum(r => r.Result.Failed)}, wrong version: {results.Sum(r => r.Result.Wrong)}");
    }

    /// <param name="checkVersion">Every request with the gray header must reach v2, every other v1.</param>
    /// <param name="userIds">Every request carries an <c>X-User-Id</c> out of 1,000, so a percentage splits users, not one client address.</param>
    /// <param name="grayHeaderOnly">Only the requests with the gray header are checked (a rollout's percentage sends some others to v2).</param>
    internal static async Task<Result> MeasureAsync(string name, Host gateway, TimeSpan duration, int concurrency, bool checkVersion, bool grayHeaderOnly = false, bool userIds = false)
    {
        var wrong = 0;
        var failed = 0;
        var headerlessToV2 = 0;
        var figures = await ClosedLoopLoad.RunAsync(duration, concurrency, async n =>
        {
            var isGray = (n & 1) == 0;
            using var request = new HttpRequestMessage(HttpMethod.Get, "/orders/1");
            if (isGray)
            {
                request.Headers.TryAddWithoutValidation("gray", "gray-996");
            }

            if (userIds)
            {
                request.Headers.TryAddWithoutValidation("X-User-Id", UserIds[(int)((uint)(n + 1) / 2 % (uint)UserIds.Length)]);
            }

            try
            {
                using var response = await gateway.Client.SendAsync(request, CancellationToken.None);
                var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref failed);
                }
                else if (!isGray && body == "v2")
                {
                    // Only a rollout's percentage (grayHeaderOnly) may do this; shows that share is in effect.
                    Interlocked.Increment(ref headerlessToV2);
                }

                if (response.IsSuccessStatusCode && checkVersion && (isGray || !grayHeaderOnly) && body != (isGray ? "v2" : "v1"))
                {
                    Interlocked.Increment(ref wrong);
                }

                return true;
            }
            catch (HttpRequestException)
            {
                Interlocked.Increment(ref failed);
                return false;
            }
        });

        var result = new Result(figures.PerSecond, figures.P50, figures.P99, figures.BytesPerCall, failed, wrong);
        Console.WriteLine($"{name,-18} {result.RequestsPerSecond,9:N0} req/s   p50 {result.P50,6:N2} ms   p99 {result.P99,6:N2} ms   {result.BytesPerRequest,7:N0} B allocated/request (whole process)   wrong version {wrong}   failed {failed}" + (grayHeaderOnly ? $"   no header → v2: {headerlessToV2}" : string.Empty));
        return result;
    }

    private static readonly string[] UserIds = Enumerable.Range(0, 1000).Select(n => "user-" + n.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    private static Task<Host> StartGatewayAsync(string v1, string v2, bool gray)
    {
        var config = new Dictionary<string, string?>
        {
            ["GrayRelease:ProdVersion"] = "v1",
            ["GrayRelease:GrayVersion"] = "v2",
            ["GrayRelease:Gateway:Enabled"] = "true",
            ["GrayRelease:Gateway:IpList:0"] = "10.0.0.0/8",
            ["ReverseProxy:Routes:orders:ClusterId"] = "orders",
            ["ReverseProxy:Routes:orders:Match:Path"] = "/orders/{**rest}",
            ["ReverseProxy:Clusters:orders:LoadBalancingPolicy"] = gray ? "GrayRoundRobin" : "RoundRobin",
            ["ReverseProxy:Clusters:orders:Destinations:v1:Address"] = v1,
            ["ReverseProxy:Clusters:orders:Destinations:v1:Metadata:version"] = "v1",
            ["ReverseProxy:Clusters:orders:Destinations:v2:Address"] = v2,
            ["ReverseProxy:Clusters:orders:Destinations:v2:Metadata:version"] = "v2",
        };

        return StartAsync(
            builder =>
            {
                builder.Configuration.AddInMemoryCollection(config);
                var proxy = builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));
                if (gray)
                {
                    builder.Services.AddGrayRelease(builder.Configuration);
                    proxy.AddGrayRelease();
                }
            },
            app =>
            {
                if (gray)
                {
                    app.MapReverseProxy(p => p.UseGrayRouting());
                }
                else
                {
                    app.MapReverseProxy();
                }
            });
    }

    internal static async Task<Host> StartAsync(Action<WebApplicationBuilder> configureBuilder, Action<WebApplication> configureApp)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        configureBuilder(builder);
        var app = builder.Build();
        configureApp(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new Host(app, address);
    }

    internal sealed record Result(double RequestsPerSecond, double P50, double P99, long BytesPerRequest, int Failed, int Wrong);

    internal sealed class Host(WebApplication app, string address) : IAsyncDisposable
    {
        public string Address { get; } = address;

        public IServiceProvider Services => app.Services;

        public HttpClient Client { get; } = new(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = new Uri(address) };

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
