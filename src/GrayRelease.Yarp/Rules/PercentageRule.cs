using System.Buffers;
using System.Net;
using System.Text;

namespace GrayRelease.Yarp;

/// <summary>
/// Gray for a fixed share of users: the user id (or, without one, the client address) is hashed into one of 10,000
/// buckets, so the same user always lands on the same side, in every gateway process and after restarts.
/// </summary>
internal sealed class PercentageRule : IGrayRule
{
    internal const int Buckets = 10_000;

    private readonly int _grayBuckets;
    private readonly ulong _seed;

    public PercentageRule(double percentage, string? salt)
    {
        _grayBuckets = (int)Math.Round(percentage * (Buckets / 100.0), MidpointRounding.AwayFromZero);
        _seed = StableHash.Append(StableHash.OffsetBasis, Encoding.UTF8.GetBytes(salt ?? string.Empty));
    }

    public string Name => "percentage";

    public bool IsGray(in GrayRuleContext context)
    {
        if (context.UserId is { Length: > 0 } userId)
        {
            return GetBucket(userId) < _grayBuckets;
        }

        if (context.ClientAddress is { } address)
        {
            return GetBucket(address) < _grayBuckets;
        }

        return false;
    }

    internal int GetBucket(string userId)
    {
        const int StackLimit = 256;
        var max = Encoding.UTF8.GetMaxByteCount(userId.Length);
        byte[]? rented = null;
        var buffer = max <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var length = Encoding.UTF8.GetBytes(userId, buffer);
            return ToBucket(StableHash.Append(_seed, buffer[..length]));
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    internal int GetBucket(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var length);
        // A client seen over IPv4 and over a dual-stack socket is the same client.
        var span = address.IsIPv4MappedToIPv6 ? bytes.Slice(12, 4) : bytes[..length];
        return ToBucket(StableHash.Append(_seed, span));
    }

    private static int ToBucket(ulong hash) => (int)(StableHash.Mix(hash) % Buckets);
}
