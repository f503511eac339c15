using System.Collections.Concurrent;

namespace GrayRelease.Routing;

/// <summary>
/// The lanes this process knows: those named in configuration (services' <c>GrayRelease:Lanes</c>, the gateway's lanes)
/// and those its routing tables found in instance metadata. Only those sources intern, never a request, so the set stays
/// as small as the operator's configuration and registry; a lane a request names that is not here has no route of its
/// own anywhere in the process (it is permissive, the baseline) and is never used as a metric tag.
/// </summary>
internal static class LaneRegistry
{
    /// <summary>At most this many lanes get a key; beyond that (a registry gone wild) lanes still route, by name.</summary>
    public const int Capacity = 1024;

    private static readonly ConcurrentDictionary<string, LaneKey> Keys = new(StringComparer.Ordinal);
    private static readonly object Gate = new();
    private static int _count;

    /// <summary>How many lanes have a key; every key's index is below it.</summary>
    public static int Count => Volatile.Read(ref _count);

    /// <summary>The key of a known lane, or <see langword="null"/>.</summary>
    public static LaneKey? Find(string? name) =>
        name is not null && Keys.TryGetValue(name, out var key) ? key : null;

    /// <summary>The key of <paramref name="name"/>, created if needed; <see langword="null"/> when the registry is full.</summary>
    public static LaneKey? Intern(string name)
    {
        if (Keys.TryGetValue(name, out var key))
        {
            return key;
        }

        lock (Gate)
        {
            if (Keys.TryGetValue(name, out key))
            {
                return key;
            }

            if (_count >= Capacity)
            {
                return null;
            }

            key = new LaneKey(name, _count);
            Keys[name] = key;
            Volatile.Write(ref _count, _count + 1);
            return key;
        }
    }
}
