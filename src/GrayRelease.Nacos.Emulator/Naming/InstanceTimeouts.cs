using System.Globalization;

namespace GrayRelease.Nacos.Emulator.Naming;

/// <summary>Per-instance heartbeat settings: the preserved metadata keys win over the emulator's options.</summary>
internal readonly record struct InstanceTimeouts(long BeatIntervalMillis, long BeatTimeoutMillis, long DeleteTimeoutMillis)
{
    public const string HeartBeatInterval = "preserved.heart.beat.interval";
    public const string HeartBeatTimeout = "preserved.heart.beat.timeout";
    public const string IpDeleteTimeout = "preserved.ip.delete.timeout";
    public const string InstanceIdGenerator = "preserved.instance.id.generator";

    public static InstanceTimeouts For(IReadOnlyDictionary<string, string> metadata, NacosEmulatorOptions options) => new(
        Read(metadata, HeartBeatInterval, options.ClientBeatIntervalMillis),
        Read(metadata, HeartBeatTimeout, (long)options.HeartbeatTimeout.TotalMilliseconds),
        Read(metadata, IpDeleteTimeout, (long)options.DeleteTimeout.TotalMilliseconds));

    private static long Read(IReadOnlyDictionary<string, string> metadata, string key, long fallback) =>
        metadata.TryGetValue(key, out var text)
        && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
        && value > 0
            ? value
            : fallback;
}
