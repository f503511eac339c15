using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Diagnostics;

/// <summary>
/// Bounds the distinct values of one metric tag whose values come from names (services, versions): every distinct value
/// is a time series kept by each exporter for the life of the process, and names can come from a caller (a host name
/// in an outgoing URL) or from the registry. The first <c>capacity</c> values are kept as they are; later ones become
/// <see cref="Other"/>, so every measurement is still counted.
/// </summary>
internal sealed class MetricTagLimiter(string tag, int capacity, ILogger logger)
{
    /// <summary>The tag value of every value beyond the cap; no service, version or lane name can take this form.</summary>
    public const string Other = "(other)";

    private readonly ConcurrentDictionary<string, string> _admitted = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private int _count;
    private int _logged;

    /// <summary>How many distinct values are kept (tests).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary><paramref name="value"/> itself while it is (or can still become) one of the kept values, else <see cref="Other"/>.</summary>
    public string Admit(string value)
    {
        if (_admitted.TryGetValue(value, out var admitted))
        {
            return admitted;
        }

        return Volatile.Read(ref _count) >= capacity ? Full(value) : AdmitNew(value);
    }

    private string AdmitNew(string value)
    {
        lock (_gate)
        {
            if (_admitted.TryGetValue(value, out var admitted))
            {
                return admitted;
            }

            if (_count >= capacity)
            {
                return Full(value);
            }

            _admitted[value] = value;
            Volatile.Write(ref _count, _count + 1);
            return value;
        }
    }

    private string Full(string value)
    {
        if (Interlocked.Exchange(ref _logged, 1) == 0)
        {
            Log.MetricTagCapReached(logger, tag, capacity, value);
        }

        return Other;
    }
}
