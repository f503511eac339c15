using BenchmarkDotNet.Attributes;
using GrayRelease.Grpc.Benchmarks.Protos;
using Microsoft.Extensions.DependencyInjection;

namespace GrayRelease.Grpc.Benchmarks;

/// <summary>
/// One unary call end to end over loopback HTTP/2 (h2c) to four servers in a child process (v1, v1, v2, v2): the gray
/// client (<c>AddGrpcClient&lt;T&gt;(nacos://bench).AddGrayReleaseGrpc()</c>, instances from configuration) versus a
/// plain client of the same factory with Grpc.Net.Client's <c>round_robin</c> policy over the same four addresses.
/// Both calls run inside the same <see cref="GrayContext"/> (GRAY or PROD), begun in the benchmark, so its cost cancels
/// out: the difference is what the gray client adds (metadata interceptor, <c>gray</c> pick, the metadata on the wire).
/// </summary>
[MemoryDiagnoser]
public class UnaryCallBenchmarks
{
    private readonly WhoRequest _request = new();
    private ServerProcess _servers = null!;
    private ServiceProvider _grayServices = null!;
    private ServiceProvider _plainServices = null!;
    private Bench.BenchClient _gray = null!;
    private Bench.BenchClient _plain = null!;

    [Params(GrayStatus.Gray, GrayStatus.Prod)]
    public GrayStatus Status { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _servers = await ServerProcess.StartAsync();
        _grayServices = Clients.Gray("bench", _servers.Backends);
        _plainServices = Clients.Plain("bench", _servers.Backends);
        _gray = _grayServices.GetRequiredService<Bench.BenchClient>();
        _plain = _plainServices.GetRequiredService<Bench.BenchClient>();

        // Every call of the gray client must reach the wanted version; the plain client may reach any.
        var expected = new Dictionary<GrayStatus, string> { [GrayStatus.Gray] = "v2", [GrayStatus.Prod] = "v1" };
        await Clients.WarmUpAsync(_gray, static async (request, client) => (await client.WhoAsync(request)).Version, expected);
        await Clients.WarmUpAsync(_plain, static async (request, client) => (await client.WhoAsync(request)).Version, expected: null);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _grayServices.Dispose();
        _plainServices.Dispose();
        _servers.Dispose();
    }

    [Benchmark(Baseline = true)]
    public async Task<string> Plain_round_robin_call()
    {
        using var scope = GrayContext.Begin(Status);
        return (await _plain.WhoAsync(_request)).Version;
    }

    [Benchmark]
    public async Task<string> Gray_call()
    {
        using var scope = GrayContext.Begin(Status);
        return (await _gray.WhoAsync(_request)).Version;
    }
}
