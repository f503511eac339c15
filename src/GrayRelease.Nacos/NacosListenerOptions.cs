namespace GrayRelease.Nacos;

/// <summary>One Nacos configuration (dataId) loaded into <c>IConfiguration</c> (<c>nacos:Listeners:[i]</c>).</summary>
public sealed class NacosListenerOptions
{
    /// <summary>The dataId, e.g. <c>common.yaml</c>; its extension picks the parser unless <see cref="Type"/> is set.</summary>
    public string DataId { get; set; } = string.Empty;

    /// <summary>The configuration group.</summary>
    public string Group { get; set; } = "DEFAULT_GROUP";

    /// <summary>When false (default), a missing dataId stops the application at start-up.</summary>
    public bool Optional { get; set; }

    /// <summary>Content type: <c>json</c>, <c>yaml</c> or <c>properties</c>; by default from the dataId's extension.</summary>
    public string? Type { get; set; }
}
