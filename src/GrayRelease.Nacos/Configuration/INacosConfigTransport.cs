namespace GrayRelease.Nacos.Configuration;

/// <summary>
/// How the configuration source reads and watches configs: HTTP long polling (<see cref="HttpConfigTransport"/>) or
/// gRPC batch listen + server push (<see cref="GrpcConfigTransport"/>). Parsing, merging, the snapshot on disk, the
/// last-valid values and the reload live once, in <see cref="NacosConfigurationProvider"/>.
/// </summary>
internal interface INacosConfigTransport : IAsyncDisposable
{
    /// <summary>For the start-up log line and errors: "gRPC" or "HTTP long polling".</summary>
    string Name { get; }

    /// <summary>The content, or <see langword="null"/> when the config does not exist; a failure throws a <see cref="NacosException"/>.</summary>
    Task<string?> GetAsync(NacosConfigKey key, CancellationToken cancellationToken);

    /// <summary>
    /// Waits until some of <paramref name="configs"/> (with the md5 the caller holds) may have changed and returns
    /// their keys; an empty answer means "nothing yet, call again".
    /// </summary>
    Task<IReadOnlyCollection<NacosConfigKey>> WaitForChangesAsync(IReadOnlyList<(NacosConfigKey Key, string Md5)> configs, CancellationToken cancellationToken);

    /// <summary>
    /// Publishes <paramref name="content"/>; with <paramref name="casMd5"/> only if the server still holds that md5
    /// (false when it does not). A failure other than that throws a <see cref="NacosException"/>.
    /// </summary>
    Task<bool> PublishAsync(NacosConfigKey key, string content, string? casMd5, string? type, CancellationToken cancellationToken);
}

/// <summary>
/// The v1 HTTP API: GET for a config, the 30 s long poll for changes (Nacos 1.x to 3.1); where v1 is gone, the v3
/// client API: GET, and a poll every <see cref="NacosOptions.V3PollInterval"/> (it has no listener).
/// </summary>
internal sealed class HttpConfigTransport(NacosConfigClient client, TimeSpan callTimeout) : INacosConfigTransport
{
    public string Name => client.UsesV3 ? "HTTP (v3 client API, polling)" : "HTTP long polling";

    public Task<string?> GetAsync(NacosConfigKey key, CancellationToken cancellationToken) => client.GetAsync(key, cancellationToken);

    public async Task<IReadOnlyCollection<NacosConfigKey>> WaitForChangesAsync(IReadOnlyList<(NacosConfigKey Key, string Md5)> configs, CancellationToken cancellationToken) =>
        await client.ListenAsync(configs, callTimeout, cancellationToken).ConfigureAwait(false);

    public Task<bool> PublishAsync(NacosConfigKey key, string content, string? casMd5, string? type, CancellationToken cancellationToken) =>
        client.PublishAsync(key, content, casMd5, type, cancellationToken);

    // The HTTP client belongs to the provider (it also logs in for the gRPC transport).
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
