using System.Net;
using System.Net.Sockets;
using GrayRelease.Nacos.Discovery;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Testing;
using Microsoft.Extensions.Logging.Testing;

namespace GrayRelease.Nacos.Tests.Discovery;

/// <summary>
/// h-nacos item 5: the idle benchmark saw an HTTP poller hold 13 connections to one server for 100 services (each poll
/// in flight takes a pooled connection, and polls of services looked up together fall due together). The connections
/// to one server are bounded, and the polls are spread over the period.
/// </summary>
public sealed class PollingConnectionTests
{
    [Fact]
    public async Task Many_services_polled_over_http_use_a_bounded_number_of_connections_to_a_server()
    {
        using var cts = TestSupport.Timeout();
        await using var nacos = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2, CacheMillis = 200 });
        for (var i = 0; i < 60; i++)
        {
            nacos.RegisterInstance("poll-app-" + i, "127.0.0.1", 20_000 + i);
        }

        await using var proxy = ConnectionCountingProxy.Start(nacos.Port);
        var options = TestSupport.Options(nacos);
        options.ServerAddresses = ["http://127.0.0.1:" + proxy.Port];
        options.Transport = NacosTransport.Http;
        options.UdpPushEnabled = false;
        var logger = new FakeLogger<NacosServiceInstanceProvider>();
        var (http, naming) = TestSupport.Clients(options, logger);
        using (http)
        await using (var provider = new NacosServiceInstanceProvider(naming, http, options, TimeProvider.System, logger))
        {
            // Looked up together: the worst case for connections (every first list and every poll in flight at once).
            var lists = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => provider.GetInstancesAsync("poll-app-" + i, cts.Token).AsTask()));
            Assert.All(lists, l => Assert.Single(l!));
            for (var i = 0; i < 60; i++)
            {
                nacos.RegisterInstance("poll-app-" + i, "127.0.0.1", 21_000 + i);
            }

            // Seen only by polls (UDP push off): every service's poll has run at least once.
            await Eventually.WaitUntilAsync(
                async () => (await Task.WhenAll(Enumerable.Range(0, 60).Select(i => provider.GetInstancesAsync("poll-app-" + i, cts.Token).AsTask()))).All(l => l!.Count == 2),
                "the second instance of every service, by polling",
                TimeSpan.FromSeconds(30));
        }

        Assert.True(proxy.MaxOpen <= 8, $"{proxy.MaxOpen} connections were open to the server at once (at most 8 expected)");
    }

    /// <summary>A loopback TCP forwarder that counts the connections open through it at once.</summary>
    private sealed class ConnectionCountingProxy : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly int _target;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accepting;
        private int _open;
        private int _maxOpen;

        private ConnectionCountingProxy(int target)
        {
            _target = target;
            _listener.Start();
            using (ExecutionContext.SuppressFlow())
            {
                _accepting = Task.Run(AcceptAsync);
            }
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int MaxOpen => Volatile.Read(ref _maxOpen);

        public static ConnectionCountingProxy Start(int target) => new(target);

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting;
            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    var open = Interlocked.Increment(ref _open);
                    int max;
                    while (open > (max = Volatile.Read(ref _maxOpen)) && Interlocked.CompareExchange(ref _maxOpen, open, max) != max)
                    {
                    }

                    _ = PipeAsync(client);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (SocketException)
                {
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
            }
        }

        private async Task PipeAsync(TcpClient client)
        {
            try
            {
                using (client)
                using (var server = new TcpClient())
                {
                    await server.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
                    var a = client.GetStream();
                    var b = server.GetStream();
                    await Task.WhenAny(a.CopyToAsync(b, _stop.Token), b.CopyToAsync(a, _stop.Token));
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
            finally
            {
                Interlocked.Decrement(ref _open);
            }
        }
    }
}
