using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace GrayRelease.Yarp;

/// <summary>Parses the address and CIDR notations accepted in the gateway options.</summary>
internal static class IPRange
{
    /// <summary>Parses <c>10.0.0.1</c>, <c>10.0.0.0/8</c>, <c>fd00::1</c> or <c>fd00::/8</c>; the error says what is wrong.</summary>
    public static bool TryParse(string? text, out IPNetwork network, [NotNullWhen(false)] out string? error)
    {
        network = default;
        var value = text.AsSpan().Trim();
        if (value.IsEmpty)
        {
            error = "is empty";
            return false;
        }

        var slash = value.IndexOf('/');
        var addressPart = slash < 0 ? value : value[..slash];
        if (!IPAddress.TryParse(addressPart, out var address) || (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0))
        {
            error = "is not an IP address or CIDR range";
            return false;
        }

        var maxPrefix = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = maxPrefix;
        if (slash >= 0 && (!int.TryParse(value[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > maxPrefix))
        {
            error = $"has an invalid prefix length (expected 0 to {maxPrefix})";
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var length);
        bytes = bytes[..length];
        if (HasHostBits(bytes, prefix))
        {
            ClearHostBits(bytes, prefix);
            error = $"has bits set after the prefix (did you mean {new IPAddress(bytes)}/{prefix}?)";
            return false;
        }

        network = new IPNetwork(address, prefix);
        error = null;
        return true;
    }

    private static bool HasHostBits(ReadOnlySpan<byte> bytes, int prefix)
    {
        for (var bit = prefix; bit < bytes.Length * 8; bit++)
        {
            if ((bytes[bit / 8] & (0x80 >> (bit % 8))) != 0)
            {
                return true;
            }
        }

        return false;
    }

    private static void ClearHostBits(Span<byte> bytes, int prefix)
    {
        for (var bit = prefix; bit < bytes.Length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }
    }
}
