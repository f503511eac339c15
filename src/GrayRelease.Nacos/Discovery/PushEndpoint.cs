using System.Net;
using System.Net.Sockets;
using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Registration;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Discovery;

/// <summary>
/// Where the push socket is bound, what is sent as <c>clientIP</c> / <c>udpPort</c>, and whom datagrams are accepted
/// from. The server pushes to exactly the <c>clientIP</c> it is given, never to the address it sees the call come from:
/// <c>naming/.../controllers/InstanceController.java</c> (<c>list</c>) builds the subscriber from the <c>clientIP</c>
/// parameter, and <c>naming/.../push/UdpPushService.java</c> (<c>prepareAckEntry</c>) sends to
/// <c>subscriber.getIp()</c>:<c>getPort()</c>. So the address must be one the server can reach.
/// </summary>
internal sealed class PushEndpoint
{
    private static readonly TimeSpan ResolveAgain = TimeSpan.FromSeconds(30);
    private readonly IReadOnlyList<Uri> _servers;
    private readonly HashSet<IPAddress> _extraSenders;
    private readonly bool _trustMachine;
    private HashSet<IPAddress> _trusted;
    private long _resolvedAt;

    private PushEndpoint(IPAddress bind, IPAddress clientIp, int port, IReadOnlyList<Uri> servers, HashSet<IPAddress> extraSenders)
    {
        Bind = bind;
        ClientIp = clientIp;
        Port = port;
        _servers = servers;
        _extraSenders = extraSenders;

        // A server on loopback is this machine, and it sends from whichever of its addresses routes to ours.
        _trustMachine = servers.Any(s => IPAddress.TryParse(s.Host.Trim('[', ']'), out var a) ? IPAddress.IsLoopback(a) : s.IsLoopback);
        _trusted = ResolveSenders();
        _resolvedAt = Environment.TickCount64;
    }

    public IPAddress Bind { get; }

    public IPAddress ClientIp { get; }

    public int Port { get; }

    /// <summary>
    /// <c>nacos:UdpHost</c> when set (bound when it is an address of this machine, else the wildcard: a port forward or
    /// NAT in front of us); otherwise the local address that routes to the first server, except that a loopback server
    /// gets this machine's LAN address: a Nacos in a container reached through a published port (<c>-p 8848:8848</c>)
    /// pushes from inside the container, where 127.0.0.1 is the container itself, while a server on the host reaches
    /// the LAN address as well.
    /// </summary>
    public static PushEndpoint Choose(NacosOptions options, IReadOnlyList<Uri> servers, ILogger logger)
    {
        var extra = new HashSet<IPAddress>();
        foreach (var entry in (options.UdpTrustedSenders ?? string.Empty).Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (IPAddress.TryParse(entry, out var address))
            {
                extra.Add(Normalize(address));
            }
            else
            {
                Log.TrustedSenderIgnored(logger, entry);
            }
        }

        IPAddress bind;
        IPAddress clientIp;
        if (!string.IsNullOrWhiteSpace(options.UdpHost) && IPAddress.TryParse(options.UdpHost.Trim().Trim('[', ']'), out var configured))
        {
            clientIp = configured;
            var local = HostAddressResolver.GetLocalAddresses();
            bind = IPAddress.IsLoopback(configured) || local.Contains(configured)
                ? configured
                : configured.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;
        }
        else
        {
            clientIp = FindLocalAddress(servers[0]);
            if (IPAddress.IsLoopback(clientIp))
            {
                var machine = HostAddressResolver.PickMachineAddress(options.PreferredNetworks, HostAddressResolver.GetLocalAddresses());
                if (!IPAddress.IsLoopback(machine) && machine.AddressFamily == clientIp.AddressFamily)
                {
                    clientIp = machine;
                }
            }

            bind = clientIp;
        }

        return new PushEndpoint(bind, clientIp, options.UdpPort, servers, extra);
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

    /// <summary>Whether a datagram from <paramref name="sender"/> may be handled (a push is then still only a signal).</summary>
    public bool IsTrusted(IPAddress sender)
    {
        sender = Normalize(sender);
        if (Volatile.Read(ref _trusted).Contains(sender))
        {
            return true;
        }

        // Server names may resolve differently over time: look again, at most every 30 s.
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _resolvedAt);
        if (now - last < ResolveAgain.TotalMilliseconds || Interlocked.CompareExchange(ref _resolvedAt, now, last) != last)
        {
            return false;
        }

        var fresh = ResolveSenders();
        Volatile.Write(ref _trusted, fresh);
        return fresh.Contains(sender);
    }

    private HashSet<IPAddress> ResolveSenders()
    {
        var result = new HashSet<IPAddress>(_extraSenders);
        foreach (var server in _servers)
        {
            var host = server.Host.Trim('[', ']');
            if (IPAddress.TryParse(host, out var literal))
            {
                result.Add(Normalize(literal));
                continue;
            }

            try
            {
                foreach (var address in Dns.GetHostAddresses(host))
                {
                    result.Add(Normalize(address));
                }
            }
            catch (SocketException)
            {
                // Unresolvable now: its pushes are dropped until a later lookup resolves it; polling goes on.
            }
        }

        if (_trustMachine || result.Any(IPAddress.IsLoopback))
        {
            result.Add(IPAddress.Loopback);
            result.Add(IPAddress.IPv6Loopback);
            foreach (var address in HostAddressResolver.GetLocalAddresses())
            {
                result.Add(Normalize(address));
            }
        }

        return result;
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
