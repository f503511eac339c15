using System.Globalization;

namespace GrayRelease.SystemBenchmarks;

/// <summary>
/// Counts established TCP connections whose local port is a given server port, from /proc/net/tcp{,6}. Client and
/// emulator share this process, so each connection appears twice; the server side (local port = server port) counts once.
/// </summary>
internal static class TcpConnections
{
    private const string Established = "01";

    public static int CountEstablishedTo(int serverPort)
    {
        if (serverPort == 0)
        {
            return 0;
        }

        var count = 0;
        foreach (var file in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(file))
            {
                continue;
            }

            foreach (var line in File.ReadLines(file).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 4 || fields[3] != Established)
                {
                    continue;
                }

                var local = fields[1];
                var port = int.Parse(local.AsSpan(local.LastIndexOf(':') + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                count += port == serverPort ? 1 : 0;
            }
        }

        return count;
    }
}
