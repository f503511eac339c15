using System.Globalization;

namespace GrayRelease.Soak;

/// <summary>What Linux says about a process: /proc/&lt;pid&gt;/status, /proc/&lt;pid&gt;/fd, and its sockets in /proc/net/tcp{,6}.</summary>
internal static class ProcFs
{
    /// <summary>TCP states as /proc/net/tcp writes them (include/net/tcp_states.h).</summary>
    public static string StateName(int state) => state switch
    {
        1 => "established",
        2 => "syn_sent",
        3 => "syn_recv",
        4 => "fin_wait1",
        5 => "fin_wait2",
        6 => "time_wait",
        7 => "close",
        8 => "close_wait",
        9 => "last_ack",
        10 => "listen",
        11 => "closing",
        _ => "other",
    };

    public static (double RssMb, int Threads)? Status(int pid)
    {
        try
        {
            double rss = 0;
            var threads = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) / 1024.0;
                }
                else if (line.StartsWith("Threads:", StringComparison.Ordinal))
                {
                    threads = int.Parse(line.AsSpan(8).Trim(), CultureInfo.InvariantCulture);
                }
            }

            return (rss, threads);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>CPU time the process has used (user + system), from /proc/&lt;pid&gt;/stat.</summary>
    public static double? CpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the command name (which may hold spaces, inside parentheses): utime and stime are 14 and 15.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>The machine's load average over one minute.</summary>
    public static double LoadAverage()
    {
        try
        {
            return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception exception) when (exception is IOException or FormatException)
        {
            return double.NaN;
        }
    }

    /// <summary>
    /// Open file descriptors, how many are code files (see <see cref="IsCodeFile"/>), how many are sockets, and the
    /// inodes of the sockets.
    /// </summary>
    public static (int Fds, int CodeFiles, int Sockets, HashSet<long> SocketInodes)? Descriptors(int pid)
    {
        try
        {
            var inodes = new HashSet<long>();
            var fds = 0;
            var codeFiles = 0;
            var sockets = 0;
            foreach (var entry in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
            {
                fds++;
                string? target;
                try
                {
                    target = new FileInfo(entry).LinkTarget;
                }
                catch (IOException)
                {
                    continue; // closed meanwhile
                }

                if (target is null)
                {
                    continue;
                }

                if (target.StartsWith("socket:[", StringComparison.Ordinal))
                {
                    sockets++;
                    if (long.TryParse(target.AsSpan(8, target.Length - 9), NumberStyles.None, CultureInfo.InvariantCulture, out var inode))
                    {
                        inodes.Add(inode);
                    }
                }
                else if (IsCodeFile(target))
                {
                    codeFiles++;
                }
            }

            return (fds, codeFiles, sockets, inodes);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// A file the runtime opens once and keeps open for the life of the process: a managed assembly (two descriptors
    /// each, opened when the assembly is first loaded), a symbol file (opened the first time a stack trace is written
    /// with line numbers), a native library, or the JIT's double-mapped code memory. A code path taken for the first
    /// time hours into a run (the first exception of a kind, a first TLS or DNS call) adds a step of them; their number
    /// is bounded by the files the application ships with, so they are counted apart from the descriptors a leak adds.
    /// </summary>
    public static bool IsCodeFile(string target) =>
        target.EndsWith(".dll", StringComparison.Ordinal)
        || target.EndsWith(".pdb", StringComparison.Ordinal)
        || target.EndsWith(".so", StringComparison.Ordinal)
        || target.Contains(".so.", StringComparison.Ordinal)
        || target.StartsWith("/memfd:doublemapper", StringComparison.Ordinal);

    /// <summary>What a process's descriptors point at, counted by kind (a file's path, or socket / pipe / anon_inode:...).</summary>
    public static Dictionary<string, int> DescriptorKinds(int pid)
    {
        var kinds = new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
            {
                string? target;
                try
                {
                    target = new FileInfo(entry).LinkTarget;
                }
                catch (IOException)
                {
                    continue;
                }

                var kind = target is null ? "?" : target.IndexOf(":[", StringComparison.Ordinal) is var bracket and > 0 ? target[..bracket] : target;
                kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Gone meanwhile: nothing to list.
        }

        return kinds;
    }

    /// <summary>Every TCP socket of the machine (IPv4 and IPv6): state, ports, owning inode (0 once no process owns it: TIME_WAIT).</summary>
    public static List<TcpSocket> TcpTable()
    {
        var result = new List<TcpSocket>();
        foreach (var file in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(file))
            {
                continue;
            }

            foreach (var line in File.ReadLines(file).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 10)
                {
                    continue;
                }

                result.Add(new TcpSocket(
                    int.Parse(fields[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                    Port(fields[1]),
                    Port(fields[2]),
                    long.Parse(fields[9], CultureInfo.InvariantCulture)));
            }
        }

        return result;
    }

    private static int Port(string address) =>
        int.Parse(address.AsSpan(address.LastIndexOf(':') + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}

internal readonly record struct TcpSocket(int State, int LocalPort, int RemotePort, long Inode);
