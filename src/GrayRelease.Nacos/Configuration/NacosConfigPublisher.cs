using GrayRelease.Nacos.Http;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Configuration;

/// <summary>
/// <see cref="INacosConfigPublisher"/> over the transport <c>nacos:Transport</c> names (Auto: gRPC when a server answers
/// ServerCheck, else the v1 HTTP API), chosen at the first call; its gRPC connection is its own (module=config).
/// </summary>
internal sealed class NacosConfigPublisher : INacosConfigPublisher, IAsyncDisposable
{
    private readonly NacosOptions _options;
    private readonly ConfigTransportChooser _chooser;
    private readonly SemaphoreSlim _select = new(1, 1);
    private INacosConfigTransport? _transport;
    private bool _disposed;

    public NacosConfigPublisher(NacosOptions options, NacosHttpClient http, TimeProvider time, ILoggerFactory loggers)
    {
        _options = options;

        // Built as the configuration provider builds its transports: the rollout engine keeps its state here, so over
        // gRPC a token the server no longer accepts (restarted with a new secret) must log in again rather than fail
        // every call until the token's refresh time; over the v3 HTTP API a watch polls every nacos:V3PollInterval.
        var logger = loggers.CreateLogger("GrayRelease.Nacos.Configuration");
        _chooser = new ConfigTransportChooser(
            options,
            http,
            new NacosConfigClient(http, logger, options.V3PollInterval, time),
            time,
            logger,
            loggers.CreateLogger("GrayRelease.Nacos.Grpc"),
            relogin: http.ReloginAsync);
    }

    public async Task<NacosConfigItem?> GetAsync(string dataId, string group, CancellationToken cancellationToken = default)
    {
        var transport = await TransportAsync(cancellationToken).ConfigureAwait(false);
        var content = await transport.GetAsync(Key(dataId, group), cancellationToken).ConfigureAwait(false);
        return content is null ? null : new NacosConfigItem(content);
    }

    public async Task<bool> PublishAsync(string dataId, string group, string content, string? casMd5 = null, string? type = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(content);
        var transport = await TransportAsync(cancellationToken).ConfigureAwait(false);
        return await transport.PublishAsync(Key(dataId, group), content, casMd5, type, cancellationToken).ConfigureAwait(false);
    }

    public async Task WaitForChangeAsync(string dataId, string group, string md5, CancellationToken cancellationToken = default)
    {
        var transport = await TransportAsync(cancellationToken).ConfigureAwait(false);
        await transport.WaitForChangesAsync([(Key(dataId, group), md5 ?? string.Empty)], cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _select.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            if (_transport is not null)
            {
                await _transport.DisposeAsync().ConfigureAwait(false);
                _transport = null;
            }
        }
        finally
        {
            _select.Release();
        }
    }

    private NacosConfigKey Key(string dataId, string group)
    {
        if (!NacosConfigKey.IsValidName(dataId))
        {
            throw new ArgumentException($"'{dataId}' is not a valid Nacos dataId (letters, digits and _ . - : only).", nameof(dataId));
        }

        if (!NacosConfigKey.IsValidName(group))
        {
            throw new ArgumentException($"'{group}' is not a valid Nacos group (letters, digits and _ . - : only).", nameof(group));
        }

        return new NacosConfigKey(dataId, group, _options.ConfigTenant);
    }

    private async ValueTask<INacosConfigTransport> TransportAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _transport) is { } transport)
        {
            return transport;
        }

        await _select.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_transport is not null)
            {
                return _transport;
            }

            var (chosen, _) = await _chooser.ChooseAsync("config publisher", cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _transport, chosen);
            return chosen;
        }
        finally
        {
            _select.Release();
        }
    }
}
