using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace GrayRelease.Nacos.Registration;

/// <summary>
/// Chooses the ip and port to register from the addresses Kestrel has bound. A wildcard binding (0.0.0.0, [::], +, *)
/// becomes this machine's address (PreferredNetworks first; loopback only when nothing else exists); a localhost
/// binding stays loopback, since nothing else can reach it.
/// </summary>
internal static class HostAddressResolver
{
    /// <param name="boundAddresses">The addresses the web server reports.</param>
    /// <param name="options">The Nacos options (Port, Ip, Secure, PreferredNetworks).</param>
    /// <param name="localAddresses">This machine's addresses (tests).</param>
    /// <param name="grpcPort">The gRPC endpoint's port, published in metadata: an address on it is registered only when
    /// no other is bound (a gRPC-only application). 0 = none.</param>
    public static (string Ip, int Port)? Resolve(IEnumerable<string> boundAddresses, NacosOptions options, Func<IReadOnlyList<IPAddress>>? localAddresses = null, int grpcPort = 0)
    {
        var candidates = new List<(string Scheme, string Host, int Port)>();
        var grpcCandidates = new List<(string Scheme, string Host, int Port)>();
        foreach (var address in boundAddresses)
        {
            if (TryParse(address, out var parsed))
            {
                (grpcPort > 0 && parsed.Port == grpcPort ? grpcCandidates : candidates).Add(parsed);
            }
        }

        if (candidates.Count == 0)
        {
            candidates = grpcCandidates;
        }

        var wantedScheme = options.Secure ? "https" : "http";
        var chosen = candidates.Find(c => c.Scheme == wantedScheme);
        if (chosen.Host is null && candidates.Count > 0)
        {
            chosen = candidates[0];
        }

        var port = options.Port > 0 ? options.Port : chosen.Host is null ? 0 : chosen.Port;
        if (port <= 0)
        {
            return null;
        }

        if (!string.IsNullOrEmpty(options.Ip))
        {
            return (options.Ip, port);
        }

        if (chosen.Host is null || IsWildcard(chosen.Host))
        {
            return (PickMachineAddress(options.PreferredNetworks, (localAddresses ?? GetLocalAddresses)()).ToString(), port);
        }

        if (chosen.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return (IPAddress.Loopback.ToString(), port);
        }

        return (chosen.Host.Trim('[', ']'), port);
    }

    internal static IPAddress PickMachineAddress(string? preferredNetworks, IReadOnlyList<IPAddress> addresses)
    {
        var prefixes = (preferredNetworks ?? string.Empty).Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var prefix in prefixes)
        {
            foreach (var address in addresses)
            {
                if (address.ToString().StartsWith(prefix, StringComparison.Ordinal))
                {
                    return address;
                }
            }
        }

        foreach (var address in addresses)
        {
            if (!IPAddress.IsLoopback(address) && address.AddressFamily == AddressFamily.InterNetwork && !IsLinkLocalV4(address))
            {
                return address;
            }
        }

        foreach (var address in addresses)
        {
            if (!IPAddress.IsLoopback(address) && !address.IsIPv6LinkLocal)
            {
                return address;
            }
        }

        return IPAddress.Loopback;
    }

    private static bool IsLinkLocalV4(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        return bytes[0] == 169 && bytes[1] == 254;
    }

    private static bool IsWildcard(string host) =>
        host is "0.0.0.0" or "[::]" or "::" or "+" or "*";

    private static bool TryParse(string address, out (string Scheme, string Host, int Port) parsed)
    {
        parsed = default;

        // Kestrel reports "http://+:80" and "http://*:80" as given; Uri cannot parse those hosts.
        var text = address.Replace("://+:", "://0.0.0.0:", StringComparison.Ordinal).Replace("://*:", "://0.0.0.0:", StringComparison.Ordinal);
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Port <= 0)
        {
            return false;
        }

        parsed = (uri.Scheme, uri.Host, uri.Port);
        return true;
    }

    /// <summary>Addresses of the interfaces that are up; those with a default gateway first, so a container bridge loses.</summary>
    internal static List<IPAddress> GetLocalAddresses()
    {
        var result = new List<IPAddress>();
        var withoutGateway = new List<IPAddress>();
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                if (nic.OperationalStatus != OperationalStatus.Up)
                {
                    continue;
                }

                var properties = nic.GetIPProperties();
                var target = properties.GatewayAddresses.Count > 0 ? result : withoutGateway;
                foreach (var unicast in properties.UnicastAddresses)
                {
                    target.Add(unicast.Address);
                }
            }
        }
        catch (NetworkInformationException)
        {
            // Fall through to loopback.
        }

        result.AddRange(withoutGateway);
        return result;
    }
}
