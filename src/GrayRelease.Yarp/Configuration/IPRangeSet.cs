using System.Net;
using System.Net.Sockets;

namespace GrayRelease.Yarp;

/// <summary>
/// An immutable set of address ranges. IPv4 ranges also match their IPv4-mapped IPv6 form (<c>::ffff:10.0.0.1</c>, what a
/// dual-stack socket reports) and mapped IPv6 ranges their IPv4 form, so no address is converted per request.
/// </summary>
internal sealed class IPRangeSet
{
    public static readonly IPRangeSet Empty = new([]);

    private readonly IPNetwork[] _networks;

    private IPRangeSet(IPNetwork[] networks) => _networks = networks;

    public bool IsEmpty => _networks.Length == 0;

    /// <summary>Builds the set from entries already checked by the options validator; invalid entries are skipped.</summary>
    public static IPRangeSet Create(IEnumerable<string>? entries)
    {
        if (entries is null)
        {
            return Empty;
        }

        var networks = new List<IPNetwork>();
        foreach (var entry in entries)
        {
            if (!IPRange.TryParse(entry, out var network, out _))
            {
                continue;
            }

            networks.Add(network);
            if (TryGetOtherFamilyForm(network, out var other))
            {
                networks.Add(other);
            }
        }

        return networks.Count == 0 ? Empty : new IPRangeSet([.. networks]);
    }

    public bool Contains(IPAddress address)
    {
        foreach (var network in _networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryGetOtherFamilyForm(IPNetwork network, out IPNetwork other)
    {
        var address = network.BaseAddress;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            other = new IPNetwork(address.MapToIPv6(), network.PrefixLength + 96);
            return true;
        }

        if (address.IsIPv4MappedToIPv6 && network.PrefixLength >= 96)
        {
            other = new IPNetwork(address.MapToIPv4(), network.PrefixLength - 96);
            return true;
        }

        other = default;
        return false;
    }
}
