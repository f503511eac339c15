namespace GrayRelease.Nacos.Emulator.Push;

/// <summary>
/// Decides from the User-Agent (<c>Nacos-Java-Client:v1.0.0</c>) whether a caller gets UDP push, with the
/// real server's client types and minimum versions (<c>ClientInfo</c> and <c>UdpPushService.canEnablePush</c>).
/// </summary>
internal static class ClientAgent
{
    private static readonly (string Prefix, Version? MinimumForPush)[] KnownClients =
    [
        ("Nacos-Go-Client", new Version(0, 1, 0)),
        ("Nacos-Java-Client", new Version(0, 1, 0)),
        ("Nacos-C-Client", new Version(1, 0, 12)),
        ("Nacos-CSharp-Client", new Version(0, 9, 0)),
        ("Nacos-Php-Client", null),
        ("Nacos-DNS", new Version(0, 4, 3)),
        ("vip-client4cpp", new Version(1, 0, 12)),
    ];

    public static bool CanPush(string? agent)
    {
        if (string.IsNullOrEmpty(agent))
        {
            return false;
        }

        foreach (var (prefix, minimum) in KnownClients)
        {
            if (!agent.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            return minimum is not null && ParseVersion(agent) is { } version && version >= minimum;
        }

        return false;
    }

    private static Version? ParseVersion(string agent)
    {
        var start = agent.IndexOf(":v", StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        Span<int> parts = stackalloc int[3];
        var count = 0;
        var text = agent.AsSpan(start + 2);
        while (count < 3 && !text.IsEmpty)
        {
            var digits = 0;
            while (digits < text.Length && char.IsAsciiDigit(text[digits]))
            {
                digits++;
            }

            if (digits == 0 || !int.TryParse(text[..digits], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out parts[count]))
            {
                break;
            }

            count++;
            text = text[digits..];
            if (text.IsEmpty || text[0] != '.')
            {
                break;
            }

            text = text[1..];
        }

        return count == 0 ? null : new Version(parts[0], count > 1 ? parts[1] : 0, count > 2 ? parts[2] : 0);
    }
}
