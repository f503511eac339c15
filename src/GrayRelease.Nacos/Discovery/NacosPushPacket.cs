namespace GrayRelease.Nacos.Discovery;

/// <summary>A UDP push datagram: <c>{"type","lastRefTime","data"}</c>. <see cref="LastRefTimeRaw"/> is echoed verbatim in the ack.</summary>
internal sealed record NacosPushPacket(string Type, string LastRefTimeRaw, string? Data);
