namespace GrayRelease.Yarp;

/// <summary>
/// 64-bit FNV-1a with a final avalanche step. Unlike <see cref="string.GetHashCode()"/> it is the same in every process,
/// which is what makes a percentage rollout sticky across gateway instances and restarts.
/// </summary>
internal static class StableHash
{
    public const ulong OffsetBasis = 14695981039346656037;
    private const ulong Prime = 1099511628211;

    public static ulong Append(ulong hash, ReadOnlySpan<byte> data)
    {
        foreach (var b in data)
        {
            hash ^= b;
            hash *= Prime;
        }

        return hash;
    }

    // FNV's low bits mix poorly for short, similar inputs (user-1, user-2, ...); the SplitMix64 finaliser spreads them.
    public static ulong Mix(ulong hash)
    {
        hash ^= hash >> 30;
        hash *= 0xbf58476d1ce4e5b9;
        hash ^= hash >> 27;
        hash *= 0x94d049bb133111eb;
        hash ^= hash >> 31;
        return hash;
    }
}
