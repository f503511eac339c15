using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using GrayRelease.Nacos.Emulator.Tests.Support;

namespace GrayRelease.Nacos.Emulator.Tests;

/// <summary>The standalone program, run as its own process from the built assembly (what <c>dotnet run</c> starts).</summary>
public sealed class StandaloneTests
{
    [Fact]
    public async Task It_prints_both_ports_and_serves_grpc_on_port_plus_1000()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var port = FreePortPair();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "GrayRelease.Nacos.Emulator.dll"), "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--profile", "nacos-3.2" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        try
        {
            string? banner = null;
            while (banner is null)
            {
                var line = await process.StandardOutput.ReadLineAsync(timeout.Token)
                    ?? throw new InvalidOperationException("The emulator exited: " + await process.StandardError.ReadToEndAsync(timeout.Token));
                if (line.Contains("listening on", StringComparison.Ordinal))
                {
                    banner = line;
                }
            }

            Assert.Contains("nacos-3.2", banner, StringComparison.Ordinal);
            Assert.Contains("HTTP port " + port, banner, StringComparison.Ordinal);
            Assert.Contains("(port " + (port + 1000) + ")", banner, StringComparison.Ordinal);
            await using var client = await NacosGrpcTestClient.ConnectAsync("http://127.0.0.1:" + (port + 1000), "naming", timeout.Token);
            Assert.NotNull(client.ConnectionId);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
    }

    /// <summary>A port p with p and p + 1000 free right now.</summary>
    private static int FreePortPair()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var port = Random.Shared.Next(30000, 40000);
            if (IsFree(port) && IsFree(port + 1000))
            {
                return port;
            }
        }

        throw new InvalidOperationException("No free port pair found.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
