namespace GrayRelease.Nacos.Naming;

/// <summary>A heartbeat answer.</summary>
internal readonly record struct NacosBeatResult(long ClientBeatInterval, int Code, bool LightBeatEnabled)
{
    /// <summary>The server does not know the instance: register again.</summary>
    public const int UnknownInstance = 20404;

    public bool InstanceUnknown => Code == UnknownInstance;
}
