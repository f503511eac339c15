using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Http;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Configuration;

/// <summary>
/// <see cref="INacosConfigPublisher"/> over the transport <c>nacos:Transport</c> names (Auto: gRPC when a server answers
/// ServerCheck, else HTTP), chosen at the first call; its gRPC connection is its own (module=config). When Auto chose
/// HTTP without any ServerCheck answer (<see cref="ConfigTransportChooser.MayProbeAgain"/>), calls probe the gRPC port
/// again, backing off (1 s, 2 s, 4 s ... 5 min), and move to gRPC once it answers: a Nacos 3.2+ server takes no publish
/// over HTTP.
/// </summary>
internal sealed class NacosConfigPublisher : INacosConfigPublisher, IAsyncDisposable
{
    private readonly NacosOptions _options;
    private readonly NacosConfigClient _client;
    private readonly ConfigTransportChooser _chooser;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _select = new(1, 1);
    private INacosConfigTransport? _transport;
    private bool _disposed;

    // The re-probe schedule while _chooser.MayProbeAgain: the timestamp from which a call probes, and the wait after it.
    private long _probeDue;
    private TimeSpan _probeDelay;
    private int _publishProbed;

    public NacosConfigPublisher(NacosOptions options, NacosHttpClient http, TimeProvider time, ILoggerFactory loggers)
    {
        _options = options;
        _time = time;

        // Built as the configuration provider builds its transports: the rollout engine keeps its state here, so over
        // gRPC a token the server no longer accepts (restarted with a new secret) must log in again rather than fail
        // every call until the token's refresh time; over the v3 HTTP API a watch polls every nacos:V3PollInterval.
        _logger = loggers.CreateLogger("GrayRelease.Nacos.Configuration");
        _client = new NacosConfigClient(http, _logger, options.V3PollInterval, time);
        _chooser = new ConfigTransportChooser(
            options,
            http,
            _client,
            time,
            _logger,
            loggers.CreateLogger("GrayRelease.Nacos.Grpc"),
            relogin: http.ReloginAsync);
    }

    /// <summary>The first wait before a call probes the gRPC port again (doubling up to <see cref="MaxReprobeDelay"/>); tests shorten it.</summary>
    internal TimeSpan FirstReprobeDelay { get; set; } = TimeSpan.FromSeconds(1);

    internal TimeSpan MaxReprobeDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The transport in use; null before the first call (tests).</summary>
    internal INacosConfigTransport? Transport => Volatile.Read(ref _transport);

    public async Task<NacosConfigItem?> GetAsync(string dataId, string group, CancellationToken cancellationToken = default)
    {
        var key = Key(dataId, group);
        var transport = await TransportAsync(cancellationToken).ConfigureAwait(false);
        var content = await transport.GetAsync(key, cancellationToken).ConfigureAwait(false);
        Answered(transport);
        return content is null ? null : new NacosConfigItem(content);
    }

    public async Task<bool> PublishAsync(string dataId, string group, string content, string? casMd5 = null, string? type = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(content);
        var key = Key(dataId, group);
        var transport = await TransportAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var published = await transport.PublishAsync(key, content, casMd5, type, cancellationToken).ConfigureAwait(false);
            Answered(transport);
            return published;
        }
        catch (NacosException ex) when (transport is HttpConfigTransport && _client.UsesV3 && _chooser.MayProbeAgain)
        {
            // Nothing was written (no publish without v1). The first such failure probes at once (a ServerCheck that was
            // only slow at the choice may answer now), later ones when the back-off says; gRPC answering → publish there.
            var now = await TransportAsync(cancellationToken, force: Interlocked.Exchange(ref _publishProbed, 1) == 0).ConfigureAwait(false);
            if (now is not HttpConfigTransport)
            {
                return await now.PublishAsync(key, content, casMd5, type, cancellationToken).ConfigureAwait(false);
            }

            throw new NacosProtocolException(
                $"Cannot publish the configuration {key} over HTTP: the server has no v1 API, and {NacosConfigClient.NoPublishWithoutV1}. "
                + $"nacos:Transport = Auto chose HTTP because no server answered ServerCheck on its gRPC port (restarting, or slow?); the publisher waits for the gRPC port, probing it again at a call in {ProbeIn()} (backing off to {MaxReprobeDelay}), and publishes over gRPC once it answers. "
                + "Set nacos:Transport = Grpc to insist on gRPC.",
                ex);
        }
    }

    public async Task WaitForChangeAsync(string dataId, string group, string md5, CancellationToken cancellationToken = default)
    {
        var key = Key(dataId, group);
        var transport = await TransportAsync(cancellationToken).ConfigureAwait(false);
        await transport.WaitForChangesAsync([(key, md5 ?? string.Empty)], cancellationToken).ConfigureAwait(false);
        Answered(transport);
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

    /// <summary>The transport: chosen at the first call; while Auto may probe again and a probe is due, probed first.</summary>
    private async ValueTask<INacosConfigTransport> TransportAsync(CancellationToken cancellationToken, bool force = false)
    {
        if (Volatile.Read(ref _transport) is { } transport && !ProbeDue(force))
        {
            return transport;
        }

        await _select.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_transport is null)
            {
                var chosen = await _chooser.ChooseAsync("config publisher", cancellationToken).ConfigureAwait(false);
                _probeDelay = FirstReprobeDelay;
                Volatile.Write(ref _probeDue, _time.GetTimestamp() + Ticks(_probeDelay));
                Volatile.Write(ref _transport, chosen);
                return chosen;
            }

            if (ProbeDue(force))
            {
                await ProbeAgainAsync(cancellationToken).ConfigureAwait(false);
            }

            return _transport;
        }
        finally
        {
            _select.Release();
        }
    }

    /// <summary>Under <see cref="_select"/>: probes; a server answering moves the publisher to gRPC for good, else the next probe waits longer.</summary>
    private async Task ProbeAgainAsync(CancellationToken cancellationToken)
    {
        _probeDelay = _probeDelay * 2 < MaxReprobeDelay ? _probeDelay * 2 : MaxReprobeDelay;
        Volatile.Write(ref _probeDue, _time.GetTimestamp() + Ticks(_probeDelay));
        GrpcConfigTransport? grpc;
        try
        {
            grpc = await _chooser.ProbeAgainAsync("config publisher", cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // A failed probe must not fail the call: it goes on over HTTP and the next probe comes.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.PublisherReprobeFailed(_logger, ex, _probeDelay);
            return;
        }

        if (grpc is null)
        {
            Log.PublisherReprobeMissed(_logger, _probeDelay);
            return;
        }

        // The HTTP transport owns nothing (the HTTP client is the application's); a call still on it finishes there.
        var old = _transport;
        Volatile.Write(ref _transport, grpc);
        if (old is not null)
        {
            await old.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>After a successful call: over HTTP a v1 answer means a server that may have no gRPC (1.x), so probing stops.</summary>
    private void Answered(INacosConfigTransport transport)
    {
        if (transport is HttpConfigTransport)
        {
            _chooser.HttpAnswered();
        }
    }

    private bool ProbeDue(bool force = false) => _chooser.MayProbeAgain && (force || _time.GetTimestamp() >= Volatile.Read(ref _probeDue));

    private TimeSpan ProbeIn()
    {
        // Whole seconds: it is read by people.
        var left = _time.GetElapsedTime(_time.GetTimestamp(), Volatile.Read(ref _probeDue));
        return left > TimeSpan.Zero ? TimeSpan.FromSeconds(Math.Ceiling(left.TotalSeconds)) : TimeSpan.Zero;
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);
}
