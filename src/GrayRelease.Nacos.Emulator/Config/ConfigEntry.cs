namespace GrayRelease.Nacos.Emulator.Config;

/// <summary>One published config; immutable, replaced on publish.</summary>
internal sealed record ConfigEntry(string Content, string Md5, string Type, DateTimeOffset LastModified);
