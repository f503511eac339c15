using System.Globalization;
using System.Net;
using System.Net.Sockets;
using GrayRelease.Nacos.Diagnostics;
using LogThrottle = GrayRelease.Diagnostics.LogThrottle;
using GrayRelease.Nacos.Http;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Discovery;

/// <summary>
/// Receives Nacos UDP push datagrams (servers 1.x to 3.1) on the address chosen by <see cref="PushEndpoint"/>, drops
/// those that do not come from a Nacos server, and answers the rest as the server expects (<c>push-ack</c>,
/// <c>dump-ack</c>, <c>unknown-ack</c>). No datagram, however malformed, ends the receive loop.
/// </summary>
internal sealed class UdpPushReceiver : IAsyncDisposable
{
    private readonly UdpClient _udp;
    private readonly PushEndpoint _endpoint;
    private readonly Func<NacosPushPacket, string?> _onPush;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private readonly LogThrottle _untrustedLog = new(TimeSpan.FromSeconds(10), TimeProvider.System);
    private int _disposed;

    private UdpPushReceiver(UdpClient udp, PushEndpoint endpoint, Func<NacosPushPacket, string?> onPush, ILogger logger)
    {
        _udp = udp;
        _endpoint = endpoint;
        _onPush = onPush;
        _logger = logger;
        ClientIp = endpoint.ClientIp.ToString();
        Port = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;

        // A loop that lives as long as the application must not keep the first caller's gray tag, Activity or scope.
        using (ExecutionContext.SuppressFlow())
        {
            _loop = Task.Run(ReceiveLoopAsync);
        }
    }

    /// <summary>The address sent as <c>clientIP</c>.</summary>
    public string ClientIp { get; }

    /// <summary>The port sent as <c>udpPort</c>.</summary>
    public int Port { get; }

    /// <summary>A receiver for one server with default options (tests).</summary>
    public static UdpPushReceiver? TryStart(Uri server, Func<NacosPushPacket, string?> onPush, ILogger logger) =>
        TryStart(new NacosOptions(), [server], onPush, logger);

    /// <summary>
    /// Binds a receiver, or returns <see langword="null"/> (logged) when no socket can be bound.
    /// <paramref name="onPush"/> handles a <c>dom</c>/<c>service</c> packet, or returns the dump data for a <c>dump</c> packet.
    /// </summary>
    public static UdpPushReceiver? TryStart(NacosOptions options, IReadOnlyList<Uri> servers, Func<NacosPushPacket, string?> onPush, ILogger logger)
    {
        try
        {
            var endpoint = PushEndpoint.Choose(options, servers, logger);
            var udp = new UdpClient(new IPEndPoint(endpoint.Bind, endpoint.Port));
            var receiver = new UdpPushReceiver(udp, endpoint, onPush, logger);
            Log.PushListening(logger, receiver.ClientIp + ":" + receiver.Port.ToString(CultureInfo.InvariantCulture));
            if (!endpoint.Bind.Equals(endpoint.ClientIp))
            {
                Log.PushAddressChosen(logger, endpoint.Bind.ToString(), receiver.ClientIp, receiver.Port);
            }

            return receiver;
        }
#pragma warning disable CA1031 // Push is an optimisation: whatever stops it, polling still works.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.PushUnavailable(logger, ex.Message);
            return null;
        }
    }

    /// <summary>The local address the OS would use to reach <paramref name="server"/> (no packet is sent).</summary>
    internal static IPAddress FindLocalAddress(Uri server) => PushEndpoint.FindLocalAddress(server);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _udp.Dispose();
        try
        {
            await _loop.ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Disposal never rethrows a loop's fault (the loop logs its own failures).
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        _stopping.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        using var running = NacosMetrics.LoopRunning("udp.push");
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            UdpReceiveResult datagram;
            try
            {
                datagram = await _udp.ReceiveAsync(token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                // An ICMP "port unreachable" for an earlier ack surfaces here on some platforms; keep listening.
                continue;
            }
#pragma warning disable CA1031 // Nothing but our own stop ends the loop.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.PushReceiveFailed(_logger, ex);
                continue;
            }

            try
            {
                var ack = Handle(datagram);
                if (ack is not null)
                {
                    await _udp.SendAsync(ack, datagram.RemoteEndPoint, token).ConfigureAwait(false);
                }
            }
            catch (Exception) when (token.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // One datagram (or one failing handler) must not end push for good.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.PushHandlingFailed(_logger, ex, datagram.RemoteEndPoint.ToString());
            }
        }
    }

    internal byte[]? Handle(UdpReceiveResult datagram)
    {
        var sender = datagram.RemoteEndPoint;
        if (!_endpoint.IsTrusted(sender.Address))
        {
            // Dropped unanswered: anyone may send here, and a dump answer is ~1000x larger than its request.
            DroppedUntrusted(sender);
            return null;
        }

        var packet = NacosPushPacket.TryParse(datagram.Buffer);
        if (packet is null)
        {
            Log.MalformedPush(_logger, datagram.Buffer.Length, sender.ToString());
            return null;
        }

        Log.PushReceived(_logger, packet.Type, sender.ToString());
        NacosMetrics.PushReceived(packet.Type);
        return BuildAnswer(packet, _onPush);
    }

    internal static byte[] BuildAnswer(NacosPushPacket packet, Func<NacosPushPacket, string?> onPush) => packet.Type switch
    {
        "dom" or "service" => Ack("push-ack", packet, onPush),
        "dump" => NacosJson.BuildAck("dump-ack", packet.LastRefTimeRaw, onPush(packet) ?? "{}"),
        _ => NacosJson.BuildAck("unknown-ack", packet.LastRefTimeRaw, string.Empty),
    };

    private static byte[] Ack(string type, NacosPushPacket packet, Func<NacosPushPacket, string?> onPush)
    {
        onPush(packet);
        return NacosJson.BuildAck(type, packet.LastRefTimeRaw, string.Empty);
    }

    /// <summary>Counts dropped datagrams and logs at most every 10 s, so a flood cannot flood the log too.</summary>
    private void DroppedUntrusted(IPEndPoint sender)
    {
        if (_untrustedLog.TryEnter(out var unlogged))
        {
            Log.PushFromUntrustedSender(_logger, unlogged + 1, sender.ToString());
        }
    }
}
