using System.Globalization;
using GrayRelease.Nacos.Naming;

namespace GrayRelease.Nacos.Registration;

/// <summary>
/// The heartbeat intervals this client accepts. The server's <c>clientBeatInterval</c> is untrusted input: a value that
/// is absurd (<c>1e400</c>, <c>5000000000</c>, negative) must neither end the heartbeats (<c>Task.Delay</c> throws above
/// ~49.7 days, <c>TimeSpan</c> overflows) nor stall them, nor turn them into a tight loop.
/// </summary>
/// <remarks>
/// Accepted range: 1 s to 60 s. Below 1 s a server (or anything answering in its place) could make every instance beat
/// in a tight loop; real servers answer 5 s by default (naming/.../misc/SwitchDomain.java clientBeatInterval). Above
/// 60 s an instance is long unhealthy and deleted under any server default (15 s heartbeat timeout, 30 s delete
/// timeout: api/.../common/Constants.java DEFAULT_HEART_BEAT_TIMEOUT / DEFAULT_IP_DELETE_TIMEOUT), so a longer answer
/// is a fault, and beating more often than asked is harmless. The instance's own <c>preserved.heart.beat.interval</c>
/// (which the server only echoes) widens the floor: sub-second beats are then the application's own choice.
/// </remarks>
internal readonly record struct BeatBounds(TimeSpan Min, TimeSpan Max, TimeSpan Initial)
{
    public const string HeartBeatIntervalKey = "preserved.heart.beat.interval";

    private static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Floor = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Ceiling = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);

    public static BeatBounds For(NacosRegistration registration)
    {
        TimeSpan? own = registration.Metadata.TryGetValue(HeartBeatIntervalKey, out var text)
            && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var millis)
            && millis > 0 && millis <= Ceiling.TotalMilliseconds
                ? TimeSpan.FromMilliseconds(millis)
                : null;
        var min = own is { } o && o < Floor ? o : Floor;
        var initial = own ?? DefaultInterval;
        return new BeatBounds(min, Ceiling, initial < min ? min : initial > Ceiling ? Ceiling : initial);
    }

    /// <summary>
    /// The interval to use after the server answered <paramref name="answeredMillis"/>: clamped into the range; a
    /// non-positive answer (which the official client ignores too) keeps <paramref name="current"/>.
    /// </summary>
    public (TimeSpan Interval, bool Odd) Clamp(double answeredMillis, TimeSpan current)
    {
        if (double.IsNaN(answeredMillis) || answeredMillis <= 0)
        {
            return (current, true);
        }

        if (answeredMillis < Min.TotalMilliseconds)
        {
            return (Min, true);
        }

        return answeredMillis > Max.TotalMilliseconds ? (Max, true) : (TimeSpan.FromMilliseconds(answeredMillis), false);
    }

    /// <summary>After the <paramref name="failures"/>th failed beat in a row: 1 s, then doubling, never above the interval.</summary>
    public static TimeSpan RetryDelay(int failures, TimeSpan interval)
    {
        var delay = FirstRetry;
        for (var i = 1; i < failures && delay < interval; i++)
        {
            delay *= 2;
        }

        return delay < interval ? delay : interval;
    }
}
