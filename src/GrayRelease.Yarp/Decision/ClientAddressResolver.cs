using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace GrayRelease.Yarp;

/// <summary>
/// Finds the client address. Forwarding headers are believed only hop by hop from the connection inwards: each address
/// is trusted to report the previous one only if it is itself a trusted proxy, so a client cannot choose its address by
/// sending <c>X-Forwarded-For</c>.
/// </summary>
internal static class ClientAddressResolver
{
    private const string ForwardedFor = "X-Forwarded-For";
    private const string RealIp = "X-Real-IP";

    // Bounds the work an attacker can cause with a long header made of trusted addresses.
    private const int MaxHops = 32;

    /// <summary>
    /// The default: only <c>X-Forwarded-For</c>, the header proxies append to. A proxy that sets only <c>X-Real-IP</c>
    /// usually passes the client's own <c>X-Forwarded-For</c> through, so reading either header by default lets a client
    /// choose its address behind one kind of proxy or the other; naming the header is the operator's call, and until then
    /// an <c>X-Real-IP</c>-only proxy yields its own address (rules fail closed) rather than one a client could have sent.
    /// </summary>
    public const string DefaultHeaders = ForwardedFor;

    private static readonly ClientAddressHeader[] DefaultOrder = [ClientAddressHeader.ForwardedFor];

    public static IPAddress? Resolve(HttpContext context, IPRangeSet trustedProxies, ClientAddressHeader[]? order = null)
    {
        var current = context.Connection.RemoteIpAddress;
        if (current is null || trustedProxies.IsEmpty || !trustedProxies.Contains(current))
        {
            return current;
        }

        var headers = context.Request.Headers;
        foreach (var header in order ?? DefaultOrder)
        {
            // The first configured header that is present decides, even when it is unusable: falling through to the
            // next one would let a client pick the header that is read by sending garbage in the other.
            if (header == ClientAddressHeader.ForwardedFor)
            {
                var forwardedFor = headers[ForwardedFor];
                if (forwardedFor.Count > 0)
                {
                    return WalkForwardedFor(forwardedFor, current, trustedProxies);
                }
            }
            else
            {
                var realIp = headers[RealIp];
                if (realIp.Count > 0)
                {
                    return realIp.Count == 1 && TryParseAddress(realIp[0], out var address) ? address : current;
                }
            }
        }

        return current;
    }

    /// <summary>Parses <see cref="GrayGatewayOptions.ClientAddressHeaders"/>: header names separated by commas, in the order they are read.</summary>
    public static bool TryParseHeaders(string? text, out ClientAddressHeader[] order, out string? error)
    {
        var parsed = new List<ClientAddressHeader>(2);
        error = null;
        foreach (var part in (text ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            ClientAddressHeader header;
            if (part.Equals(ForwardedFor, StringComparison.OrdinalIgnoreCase))
            {
                header = ClientAddressHeader.ForwardedFor;
            }
            else if (part.Equals(RealIp, StringComparison.OrdinalIgnoreCase))
            {
                header = ClientAddressHeader.RealIp;
            }
            else
            {
                error = $"names '{part}'; only {ForwardedFor} and {RealIp} are understood";
                break;
            }

            if (parsed.Contains(header))
            {
                error = $"names '{part}' twice";
                break;
            }

            parsed.Add(header);
        }

        order = error is null ? [.. parsed] : DefaultOrder;
        return error is null;
    }

    private static IPAddress WalkForwardedFor(StringValues values, IPAddress current, IPRangeSet trustedProxies)
    {
        var hops = 0;
        for (var v = values.Count - 1; v >= 0; v--)
        {
            var remaining = (values[v] ?? string.Empty).AsSpan();
            while (!remaining.IsEmpty)
            {
                var comma = remaining.LastIndexOf(',');
                var entry = comma < 0 ? remaining : remaining[(comma + 1)..];
                remaining = comma < 0 ? [] : remaining[..comma];
                if (entry.Trim().IsEmpty)
                {
                    continue;
                }

                if (++hops > MaxHops || !TryParseAddress(entry, out var address))
                {
                    // Garbage or an absurd chain: stop believing the header at the last address we could vouch for.
                    return current;
                }

                current = address;
                if (!trustedProxies.Contains(current))
                {
                    return current;
                }
            }
        }

        return current;
    }

    private static bool TryParseAddress(ReadOnlySpan<char> text, out IPAddress address)
    {
        text = text.Trim();
        if (IPAddress.TryParse(text, out address!))
        {
            return true;
        }

        // Some proxies append the port: 203.0.113.7:5123 or [2001:db8::7]:5123.
        if (IPEndPoint.TryParse(text, out var endPoint))
        {
            address = endPoint.Address;
            return true;
        }

        return false;
    }
}

/// <summary>A forwarding header the client address may be read from.</summary>
internal enum ClientAddressHeader
{
    ForwardedFor,
    RealIp,
}
