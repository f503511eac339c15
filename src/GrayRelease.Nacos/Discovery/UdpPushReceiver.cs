using System.Net;
using System.Net.Sockets;
using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Http;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Discovery;

/// <summary>
/// Receives Nacos UDP push datagrams (servers 1.x to 3.1) on an ephemeral port of the local address that reaches the
/// first Nacos server, and answers each one as the server expects (<c>push-ack</c>, <c>dump-ack</c>, <c>unknown-ack</c>).
/// </summary>
internal sealed class UdpPushReceiver : IAsyncDisposable
{
    private readonly UdpClient _udp;
    private readonly Func<NacosPushPacket, string?> _onPush;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;

    private UdpPushReceiver(UdpClient udp, Func<NacosPushPacket, string?> onPush, ILogger logger)
    {
        _udp = udp;
        _onPush = onPush;
        _logger = logger;
        var local = (IPEndPoint)udp.Client.LocalEndPoint!;
        ClientIp = local.Address.ToString();
        Port = local.Port;
        _loop = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>The address sent as <c>clientIP</c>.</summary>
    public string ClientIp { get; }

    /// <summary>The port sent as <c>udpPort</c>.</summary>
    public int Port { get; }

    /// <summary>
    /// Binds a receiver, or returns <see langword="null"/> (logged) when no socket can be bound.
    /// <paramref name="onPush"/> handles a <c>dom</c>/<c>service</c> packet, or returns the dump data for a <c>dump</c> packet.
    /// </summary>
    public static UdpPushReceiver? TryStart(Uri server, Func<NacosPushPacket, string?> onPush, ILogger logger)
    {
        try
        {
            var local = FindLocalAddress(server);
            var udp = new UdpClient(new IPEndPoint(local, 0));
            var receiver = new UdpPushReceiver(udp, onPush, logger);
            Log.PushListening(logger, receiver.ClientIp + ":" + receiver.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
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
    internal static IPAddress FindLocalAddress(Uri server)
    {
        var remote = IPAddress.TryParse(server.Host.Trim('[', ']'), out var literal)
            ? literal
            : Array.Find(Dns.GetHostAddresses(server.Host), a => a.AddressFamily == AddressFamily.InterNetwork)
              ?? Dns.GetHostAddresses(server.Host)[0];
        using var probe = new Socket(remote.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        probe.Connect(new IPEndPoint(remote, server.Port));
        return ((IPEndPoint)probe.LocalEndPoint!).Address;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _udp.Dispose();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
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

            try
            {
                var ack = Handle(datagram);
                if (ack is not null)
                {
                    await _udp.SendAsync(ack, datagram.RemoteEndPoint, token).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                if (token.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    internal byte[]? Handle(UdpReceiveResult datagram)
    {
        var sender = datagram.RemoteEndPoint.ToString();
        var packet = NacosJson.ParsePushPacket(datagram.Buffer);
        if (packet is null)
        {
            Log.MalformedPush(_logger, datagram.Buffer.Length, sender);
            return null;
        }

        Log.PushReceived(_logger, packet.Type, sender);
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
}
