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

    public static IPAddress? Resolve(HttpContext context, IPRangeSet trustedProxies)
    {
        var current = context.Connection.RemoteIpAddress;
        if (current is null || trustedProxies.IsEmpty || !trustedProxies.Contains(current))
        {
            return current;
        }

        var headers = context.Request.Headers;
        var forwardedFor = headers[ForwardedFor];
        if (forwardedFor.Count > 0)
        {
            return WalkForwardedFor(forwardedFor, current, trustedProxies);
        }

        var realIp = headers[RealIp];
        return realIp.Count == 1 && TryParseAddress(realIp[0], out var address) ? address : current;
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
