namespace GrayRelease.Nacos.Configuration;

/// <summary>
/// Writes configs to Nacos, optionally compare-and-set on the md5 the caller read (Nacos <c>casMd5</c>), and reads and
/// watches them back: how a program keeps small shared state (a lease, a rollout's progress) in Nacos.
/// </summary>
public interface INacosConfigPublisher
{
    /// <summary>The config's content and md5, or <see langword="null"/> when it does not exist.</summary>
    /// <exception cref="NacosException">No server answered, or the server refused the read.</exception>
    Task<NacosConfigItem?> GetAsync(string dataId, string group, CancellationToken cancellationToken = default);

    /// <summary>
    /// Publishes <paramref name="content"/> (<paramref name="type"/>: <c>json</c>, <c>yaml</c>, <c>text</c>...). With
    /// <paramref name="casMd5"/>, only if the server's md5 of the config is still that value; as on the Nacos server, a
    /// config that does not exist yet is created whatever <paramref name="casMd5"/> says.
    /// </summary>
    /// <returns>False when <paramref name="casMd5"/> was given and the server's md5 differed (someone wrote first).</returns>
    /// <exception cref="NacosException">No server answered, or the server refused the write for another reason.</exception>
    Task<bool> PublishAsync(string dataId, string group, string content, string? casMd5 = null, string? type = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns when the config may differ from <paramref name="md5"/> (empty: "I hold nothing"), or after the
    /// transport's listen period with nothing changed; read it again either way. One watch at a time per application.
    /// </summary>
    /// <exception cref="NacosException">No server answered.</exception>
    Task WaitForChangeAsync(string dataId, string group, string md5, CancellationToken cancellationToken = default);
}
