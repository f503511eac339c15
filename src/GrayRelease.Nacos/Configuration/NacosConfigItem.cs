namespace GrayRelease.Nacos.Configuration;

/// <summary>A config as read from Nacos: its content and the md5 to pass as <c>casMd5</c> when writing it back.</summary>
public sealed class NacosConfigItem
{
    /// <summary>Creates an item; <see cref="Md5"/> is computed from <paramref name="content"/> as Nacos does (UTF-8, lower-case hex).</summary>
    public NacosConfigItem(string content)
    {
        ArgumentNullException.ThrowIfNull(content);
        Content = content;
        Md5 = NacosConfigKey.Md5(content);
    }

    /// <summary>The content.</summary>
    public string Content { get; }

    /// <summary>Lower-case hex MD5 of the content's UTF-8 bytes, the value Nacos compares for <c>casMd5</c>.</summary>
    public string Md5 { get; }
}
