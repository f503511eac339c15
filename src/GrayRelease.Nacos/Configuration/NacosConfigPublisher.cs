using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Grpc;
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
    private readonly NacosHttpClient _http;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _select = new(1, 1);
    private INacosConfigTransport? _transport;
    private bool _disposed;

    public NacosConfigPublisher(NacosOptions options, NacosHttpClient http, TimeProvider time, ILoggerFactory loggers)
    {
        _options = options;
        _http = http;
        _time = time;
        _loggers = loggers;
        _logger = loggers.CreateLogger("GrayRelease.Nacos.Configuration");
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

            var settings = NacosGrpcSettings.FromOptions(_options);
            var useGrpc = _options.Transport switch
            {
                NacosTransport.Http => false,
                NacosTransport.Grpc => true,
                _ => _options.ConfigUseRpc
                    || await NacosGrpcConnection.ProbeAsync(_options, settings, _logger, cancellationToken).ConfigureAwait(false) is not null,
            };
            INacosConfigTransport chosen = useGrpc
                ? new GrpcConfigTransport(_options, _time, _loggers.CreateLogger("GrayRelease.Nacos.Grpc"), _http.GetAccessTokenAsync, settings)
                : new HttpConfigTransport(new NacosConfigClient(_http), TimeSpan.FromMilliseconds(_options.DefaultTimeOut));
            Log.ConfigTransportChosen(_logger, chosen.Name, "config publisher, nacos:Transport = " + _options.Transport);
            Volatile.Write(ref _transport, chosen);
            return chosen;
        }
        finally
        {
            _select.Release();
        }
    }
}
