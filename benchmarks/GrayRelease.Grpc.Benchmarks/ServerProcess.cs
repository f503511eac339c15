using System.Diagnostics;
using System.Net;
using Grpc.Core;
using GrayRelease.Grpc.Benchmarks.Protos;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Grpc.Benchmarks;

/// <summary>
/// The four gRPC backends (v1, v1, v2, v2; each answers its version) in a child process: BenchmarkDotNet's
/// MemoryDiagnoser counts the allocations of every thread of the benchmark process, so a server in it would be counted
/// as the client's, and the gray client sends metadata the plain one does not.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    /// <summary>Set by the program before BenchmarkDotNet starts its own processes: how to start this program again.</summary>
    public const string CommandVariable = "GRAYRELEASE_GRPC_BENCH_SELF";

    public static readonly string[] Versions = ["v1", "v1", "v2", "v2"];

    private readonly Process _process;

    private ServerProcess(Process process, IReadOnlyList<Backend> backends)
    {
        _process = process;
        Backends = backends;
    }

    public IReadOnlyList<Backend> Backends { get; }

    public static async Task<ServerProcess> StartAsync()
    {
        // BenchmarkDotNet runs the benchmarks in a program it generated: start ours, not that one.
        var self = Environment.GetEnvironmentVariable(CommandVariable) ?? typeof(ServerProcess).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(self);
        start.ArgumentList.Add("servers");
        var process = Process.Start(start)!;
        var backends = new List<Backend>();
        foreach (var version in Versions)
        {
            var line = await process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("The server process did not start.");
            backends.Add(new Backend(version, new Uri(line)));
        }

        return new ServerProcess(process, backends);
    }

    public void Dispose()
    {
        _process.StandardInput.Close();
        if (!_process.WaitForExit(10_000))
        {
            _process.Kill();
        }

        _process.Dispose();
    }

    /// <summary>Runs the four backends until standard input closes; prints their addresses, one a line.</summary>
    public static async Task RunAsync()
    {
        var hosts = new List<WebApplication>();
        foreach (var version in Versions)
        {
            var host = await StartHostAsync(
                builder => builder.Services.AddSingleton(new Version(version)),
                app => app.MapGrpcService<WhoService>());
            hosts.Add(host.App);
            Console.WriteLine(host.Address);
        }

        await Console.In.ReadToEndAsync();
        foreach (var host in hosts)
        {
            await host.StopAsync();
            await host.DisposeAsync();
        }
    }

    /// <summary>A Kestrel gRPC server on 127.0.0.1 (HTTP/2 cleartext, a free port), no logging.</summary>
    public static async Task<(WebApplication App, Uri Address)> StartHostAsync(Action<WebApplicationBuilder> configureBuilder, Action<WebApplication> configureApp)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        configureBuilder(builder);
        var app = builder.Build();
        configureApp(app);
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return (app, address);
    }

    internal sealed record Version(string Value);

    private sealed class WhoService(Version version) : Bench.BenchBase
    {
        private readonly WhoReply _reply = new() { Version = version.Value };

        public override Task<WhoReply> Who(WhoRequest request, ServerCallContext context) => Task.FromResult(_reply);
    }
}
