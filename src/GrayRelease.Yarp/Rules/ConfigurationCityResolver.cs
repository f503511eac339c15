using System.Net;
using Microsoft.Extensions.Options;

namespace GrayRelease.Yarp;

/// <summary>
/// <see cref="ICityResolver"/> backed by the table in <c>GrayRelease:Gateway:Cities</c> (city → address ranges).
/// The most specific range wins; the table is rebuilt when the configuration changes.
/// </summary>
public sealed class ConfigurationCityResolver : ICityResolver, IDisposable
{
    private readonly IDisposable? _subscription;
    private Entry[] _entries;

    /// <summary>Creates the resolver over the gateway options.</summary>
    public ConfigurationCityResolver(IOptionsMonitor<GrayGatewayOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _entries = Build(options.CurrentValue);
        _subscription = options.OnChange(o => Volatile.Write(ref _entries, Build(o)));
    }

    /// <inheritdoc />
    public string? ResolveCity(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var mapped = address.IsIPv4MappedToIPv6;
        foreach (var entry in Volatile.Read(ref _entries))
        {
            // Entries are sorted most specific first, so the first hit is the longest prefix.
            if (entry.Network.Contains(address) || (mapped && entry.MappedNetwork is { } m && m.Contains(address)))
            {
                return entry.City;
            }
        }

        return null;
    }

    /// <inheritdoc />
    public void Dispose() => _subscription?.Dispose();

    private static Entry[] Build(GrayGatewayOptions options)
    {
        var entries = new List<Entry>();
        foreach (var (city, ranges) in options.Cities)
        {
            foreach (var range in ranges ?? [])
            {
                if (IPRange.TryParse(range, out var network, out _))
                {
                    IPNetwork? mapped = network.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
                        ? new IPNetwork(network.BaseAddress.MapToIPv6(), network.PrefixLength + 96)
                        : null;
                    entries.Add(new Entry(network, mapped, city));
                }
            }
        }

        entries.Sort(static (a, b) => b.Network.PrefixLength.CompareTo(a.Network.PrefixLength));
        return [.. entries];
    }

    private sealed record Entry(IPNetwork Network, IPNetwork? MappedNetwork, string City);
}
