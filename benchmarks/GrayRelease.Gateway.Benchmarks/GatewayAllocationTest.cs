using System.Diagnostics;
using System.Net;
using GrayRelease.Yarp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Transforms.Builder;

namespace GrayRelease.Gateway.Benchmarks;

/// <summary>
/// Bytes allocated per request by the gateway process: plain YARP, the whole gray pipeline, and the gray pipeline with
/// one step at a time, so the difference can be attributed. The backends run in a child process (their allocations
/// would otherwise count: the gray pipeline sends them a header plain YARP does not), and every gateway receives the
/// same requests (half of them carry the client's <c>gray</c> header), so client and Kestrel costs cancel out.
/// Requests are sent one at a time, so the count is not blurred by concurrency. With <c>logging</c>, every gateway has a
/// console logger at Warning (scopes captured, nothing written per request).
/// </summary>
internal static class GatewayAllocationTest
{
    private static readonly (string Name, Variant Variant)[] Variants =
    [
        ("plain YARP", new Variant(Gray: false, Decision: false, Filter: false, Transform: false, GrayPolicy: false)),
        ("gray pipeline", new Variant(Gray: true, Decision: true, Filter: true, Transform: true, GrayPolicy: true)),
        ("decision only", new Variant(Gray: true, Decision: true, Filter: false, Transform: false, GrayPolicy: false)),
        ("filter + GrayRoundRobin only", new Variant(Gray: true, Decision: false, Filter: true, Transform: false, GrayPolicy: true)),
        ("header transform only", new Variant(Gray: true, Decision: false, Filter: false, Transform: true, GrayPolicy: false)),
    ];

    public static async Task RunAsync(int requests, int rounds, bool all, bool logging, bool types)
    {
        using var backends = await BackendProcess.StartAsync();
        using var sampler = types ? new AllocationSampler() : null;
        var windows = new List<(string Name, DateTime Start, DateTime End, int Requests)>();
        var variants = all ? Variants : Variants[..2];
        var gateways = new List<(string Name, GatewayHost Host)>();
        try
        {
            foreach (var (name, variant) in variants)
            {
                gateways.Add((name, await StartGatewayAsync(backends.V1, backends.V2, variant, logging)));
            }

            Console.WriteLine($"{requests:N0} sequential requests per round, {rounds} rounds, {Environment.ProcessorCount} cores, .NET {Environment.Version}; backends in process {backends.ProcessId}; logging {(logging ? "console at Warning" : "none")}");
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
                    Console.WriteLine($"round {round + 1} {name,-30} {bytes,9:N1} B/request");
                }
            }

            Console.WriteLine();
            Console.WriteLine("| gateway | median B/request | spread (min–max) | median − plain YARP |");
            Console.WriteLine("|---|---:|---:|---:|");
            var plain = Median(results["plain YARP"]);
            foreach (var (name, _) in gateways)
            {
                var values = results[name].Order().ToArray();
                Console.WriteLine($"| {name} | {Median(values):N0} | {values[0]:N0}–{values[^1]:N0} | {Median(values) - plain:+0;-0;0} |");
            }

            if (sampler is not null)
            {
                PrintSamplesByType(sampler, windows, gateways.Select(g => g.Name).ToArray());
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

    /// <summary>Allocation samples per type, as bytes per request (samples × 100 KB / requests), next to those of the first gateway (the baseline).</summary>
    internal static void PrintSamplesByType(AllocationSampler sampler, List<(string Name, DateTime Start, DateTime End, int Requests)> windows, string[] names)
    {
        // Events arrive a little after they happen; wait for the last window's.
        Thread.Sleep(2_000);
        var samples = sampler.Samples.ToArray();
        var perRequest = new Dictionary<string, Dictionary<string, double>>();
        foreach (var name in names)
        {
            var own = windows.Where(w => w.Name == name).ToArray();
            var requests = own.Sum(w => w.Requests);
            perRequest[name] = samples
                .Where(s => own.Any(w => s.Time >= w.Start && s.Time < w.End))
                .GroupBy(s => s.Type)
                .ToDictionary(g => g.Key, g => g.Count() * 100_000.0 / requests);
        }

        Console.WriteLine();
        Console.WriteLine($"Allocation samples by type (≈ B/request: samples × 100 KB / requests, random sampling, so ± some tens of bytes): types that differ most from {names[0]}");
        var plain = perRequest[names[0]];
        foreach (var name in names.Skip(1))
        {
            var other = perRequest[name];
            var rows = other.Keys.Union(plain.Keys)
                .Select(t => (Type: t, Plain: plain.GetValueOrDefault(t), Other: other.GetValueOrDefault(t)))
                .OrderByDescending(r => Math.Abs(r.Other - r.Plain))
                .Take(15);
            Console.WriteLine($"-- {name} vs {names[0]}");
            foreach (var (type, p, o) in rows)
            {
                Console.WriteLine($"{o - p,8:+0;-0;0}  {p,7:N0} → {o,7:N0}  {type}");
            }
        }
    }

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    private static async Task<double> SendAsync(GatewayHost gateway, int requests)
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

            using var response = await gateway.Client.SendAsync(request, CancellationToken.None);
            var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
            if (!response.IsSuccessStatusCode || (gateway.Gray && body != (isGray ? "v2" : "v1")))
            {
                throw new InvalidOperationException($"Unexpected answer {(int)response.StatusCode} '{body}'.");
            }
        }

        return (double)(GC.GetTotalAllocatedBytes(precise: true) - before) / requests;
    }

    private static async Task<GatewayHost> StartGatewayAsync(string v1, string v2, Variant variant, bool logging)
    {
        var config = new Dictionary<string, string?>
        {
            ["GrayRelease:ProdVersion"] = "v1",
            ["GrayRelease:GrayVersion"] = "v2",
            ["GrayRelease:Gateway:Enabled"] = "true",
            ["GrayRelease:Gateway:IpList:0"] = "10.0.0.0/8",
            ["ReverseProxy:Routes:orders:ClusterId"] = "orders",
            ["ReverseProxy:Routes:orders:Match:Path"] = "/orders/{**rest}",
            ["ReverseProxy:Clusters:orders:LoadBalancingPolicy"] = variant.GrayPolicy ? "GrayRoundRobin" : "RoundRobin",
            ["ReverseProxy:Clusters:orders:Destinations:v1:Address"] = v1,
            ["ReverseProxy:Clusters:orders:Destinations:v1:Metadata:version"] = "v1",
            ["ReverseProxy:Clusters:orders:Destinations:v2:Address"] = v2,
            ["ReverseProxy:Clusters:orders:Destinations:v2:Metadata:version"] = "v2",
        };

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (logging)
        {
            // A production-like set-up: a provider that takes scopes, nothing written per request. ASP.NET Core then
            // starts an Activity per request (for log correlation), so the ExecutionContext is no longer empty.
            builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
        }

        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Configuration.AddInMemoryCollection(config);
        var proxy = builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));
        if (variant.Gray)
        {
            builder.Services.AddGrayRelease(builder.Configuration);
            proxy.AddGrayRelease();
            if (!variant.Transform)
            {
                builder.Services.RemoveAll(d => d.ServiceType == typeof(ITransformProvider) && d.ImplementationType == typeof(GrayHeaderTransformProvider));
            }
        }

        var app = builder.Build();
        if (variant.Gray)
        {
            app.MapReverseProxy(p =>
            {
                if (variant.Decision)
                {
                    p.UseGrayDecision();
                }

                if (variant.Filter)
                {
                    p.UseGrayVersionFilter();
                }

                p.UseSessionAffinity();
                p.UseLoadBalancing();
                p.UsePassiveHealthChecks();
            });
        }
        else
        {
            app.MapReverseProxy();
        }

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        // Only the whole pipeline routes by version; a partial one may answer from either backend.
        return new GatewayHost(app, address, variant.Gray && variant.Decision && variant.Filter);
    }

    private static void RemoveAll(this IServiceCollection services, Func<ServiceDescriptor, bool> match)
    {
        for (var i = services.Count - 1; i >= 0; i--)
        {
            if (match(services[i]))
            {
                services.RemoveAt(i);
            }
        }
    }

    private sealed record Variant(bool Gray, bool Decision, bool Filter, bool Transform, bool GrayPolicy);

    private sealed class GatewayHost(WebApplication app, string address, bool gray) : IAsyncDisposable
    {
        public bool Gray { get; } = gray;

        public HttpClient Client { get; } = new(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = new Uri(address) };

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
