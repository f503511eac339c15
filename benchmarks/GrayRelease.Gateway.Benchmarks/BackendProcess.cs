using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Gateway.Benchmarks;

/// <summary>
/// The two backends (answering "v1" and "v2") in a child process (this program with <c>backends</c>), so what they
/// allocate does not count as the gateway's: the gray pipeline sends them a header plain YARP does not.
/// </summary>
internal sealed class BackendProcess : IDisposable
{
    private readonly Process _process;

    private BackendProcess(Process process, string v1, string v2)
    {
        _process = process;
        V1 = v1;
        V2 = v2;
    }

    public string V1 { get; }

    public string V2 { get; }

    public int ProcessId => _process.Id;

    public static async Task<BackendProcess> StartAsync()
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(start.FileName) == "dotnet")
        {
            // Started as `dotnet <dll>` rather than through the app host.
            start.ArgumentList.Add(typeof(BackendProcess).Assembly.Location);
        }

        start.ArgumentList.Add("backends");
        var process = Process.Start(start)!;
        var v1 = await process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("The backend process did not start.");
        var v2 = await process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("The backend process did not start.");
        return new BackendProcess(process, v1, v2);
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

    /// <summary>Runs the two backends (answering "v1" and "v2") until standard input closes; prints their addresses.</summary>
    public static async Task RunAsync()
    {
        var hosts = new List<WebApplication>();
        foreach (var version in new[] { "v1", "v2" })
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            app.MapFallback(() => version);
            await app.StartAsync();
            hosts.Add(app);
            Console.WriteLine(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        }

        await Console.In.ReadToEndAsync();
        foreach (var host in hosts)
        {
            await host.StopAsync();
            await host.DisposeAsync();
        }
    }
}
