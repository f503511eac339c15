using System.Text;
using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Discovery;
using GrayRelease.Nacos.Grpc;
using GrayRelease.Nacos.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Configuration;

/// <summary>
/// Holds the flattened values of the listed dataIds (later dataIds override earlier ones) and keeps them current
/// through its <see cref="INacosConfigTransport"/> (gRPC push or HTTP long polling, chosen at the first load by
/// <c>nacos:Transport</c>); a change calls <see cref="ConfigurationProvider.OnReload"/>.
/// </summary>
internal sealed class NacosConfigurationProvider : ConfigurationProvider, IDisposable
{
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    private readonly NacosOptions _options;
    private readonly TimeProvider _time;
    private readonly NacosHttpClient _http;
    private readonly NacosConfigClient _client;
    private readonly ConfigTransportChooser _chooser;
    private readonly ConfigEntry[] _entries;
    private readonly string _snapshotDirectory;
    private readonly CancellationTokenSource _disposed = new();
    private readonly object _gate = new();
    private readonly DeferredLoggerFactory _loggers = new();
    private readonly ILogger _logger;
    private Task? _listenLoop;
    private volatile INacosConfigTransport? _transport;

    // While _chooser.MayProbeAgain (Auto on HTTP without a ServerCheck answer, no v1 answer since): the re-probe schedule.
    private int _pollsSinceProbe;
    private int _pollsBetweenProbes = 1;

    public NacosConfigurationProvider(NacosOptions options, TimeProvider timeProvider, ILoggerFactory? loggerFactory, HttpMessageHandler? handler, NacosGrpcSettings? grpcSettings = null)
    {
        _options = options;
        _time = timeProvider;

        // Built before the application's logging: without a factory, messages wait for AttachLogger (the host's
        // NacosConfigurationLoggerBinder). The HTTP client logs under the category the DI-built one uses.
        if (loggerFactory is not null)
        {
            _loggers.Attach(loggerFactory);
        }

        _logger = _loggers.CreateLogger("GrayRelease.Nacos.Configuration");
        _http = new NacosHttpClient(options, timeProvider, _loggers.CreateLogger("GrayRelease.Nacos.Http"), handler);
        _client = new NacosConfigClient(_http, _logger, options.V3PollInterval, timeProvider);
        _chooser = new ConfigTransportChooser(options, _http, _client, timeProvider, _logger, _loggers.CreateLogger("GrayRelease.Nacos.Grpc"), grpcSettings, _http.ReloginAsync);
        _snapshotDirectory = Path.Combine(options.GetSnapshotPath(), "config");
        _entries = new ConfigEntry[options.Listeners.Count];
        for (var i = 0; i < _entries.Length; i++)
        {
            var listener = options.Listeners[i];
            _entries[i] = new ConfigEntry(new NacosConfigKey(listener.DataId, string.IsNullOrEmpty(listener.Group) ? "DEFAULT_GROUP" : listener.Group, options.ConfigTenant), listener);
        }
    }

    /// <summary>Configuration is built before logging; the host attaches its logger factory once it exists.</summary>
    internal void AttachLogger(ILoggerFactory loggerFactory) => _loggers.Attach(loggerFactory);

    internal Task? ListenLoop => _listenLoop;

    /// <summary>The transport chosen at the first load; null before it.</summary>
    internal INacosConfigTransport? Transport => _transport;

    public override void Load()
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);

        // IConfigurationProvider.Load is synchronous by contract; Task.Run keeps a caller's synchronization context out.
        try
        {
            Task.Run(() => LoadAllAsync(_disposed.Token)).GetAwaiter().GetResult();
        }
        catch when (_listenLoop is null && _transport is not null)
        {
            // A failed first load ends the build and nobody disposes this provider: the gRPC connection must not outlive it.
            var transport = _transport;
            _transport = null;
            try
            {
                Task.Run(() => transport.DisposeAsync().AsTask()).Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException)
            {
                // The load's own error is the one to report.
            }

            throw;
        }

        lock (_gate)
        {
            Data = Merge();
            if (_listenLoop is null && _entries.Length > 0)
            {
                // The first Load may run inside a request (or a reload it triggers): the loop lives for the
                // application and must not carry that caller's gray tag, Activity or log scopes forever.
                using (ExecutionContext.SuppressFlow())
                {
                    _listenLoop = Task.Run(() => ListenLoopAsync(_disposed.Token));
                }
            }
        }
    }

    public void Dispose()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        _disposed.Cancel();
        try
        {
            // Dispose is synchronous by contract; the loop ends promptly once cancelled, and the HTTP client it uses
            // must not be disposed under it.
            _listenLoop?.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        var transport = _transport;
        if (transport is not null)
        {
            try
            {
                // Synchronous by contract; Task.Run keeps a caller's synchronization context out. Never rethrows.
                Task.Run(() => transport.DisposeAsync().AsTask()).Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException)
            {
            }
        }

        _http.Dispose();
    }

    /// <summary>
    /// While <see cref="ConfigTransportChooser.MayProbeAgain"/>: if a server answers ServerCheck now, the start-up probe
    /// only met an outage, so switch to gRPC for good (the next listen re-reads what changed, by md5).
    /// </summary>
    private async Task ProbeAgainAsync(CancellationToken cancellationToken)
    {
        var grpc = await _chooser.ProbeAgainAsync(null, cancellationToken).ConfigureAwait(false);
        if (grpc is null)
        {
            return;
        }

        var old = _transport;
        _transport = grpc;
        if (old is not null)
        {
            await old.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task LoadAllAsync(CancellationToken cancellationToken)
    {
        if (_transport is null && _entries.Length > 0)
        {
            _transport = await _chooser.ChooseAsync(null, cancellationToken).ConfigureAwait(false);
        }

        foreach (var entry in _entries)
        {
            string? content;
            try
            {
                content = await _transport!.GetAsync(entry.Key, cancellationToken).ConfigureAwait(false);

                // A v1 answer means a server that may have no gRPC (1.x); a v3 server serves gRPC, so keep looking.
                _chooser.HttpAnswered();
                if (content is not null)
                {
                    SaveSnapshot(entry.Key, content);
                }
            }
            catch (NacosException ex)
            {
                content = LoadSnapshot(entry.Key);
                if (content is null && !entry.Listener.Optional)
                {
                    throw new InvalidOperationException(
                        $"Could not load the Nacos configuration {entry.Key} from {string.Join(", ", _http.Servers)} over {_transport!.Name} and no snapshot exists: {ex.Message} Check nacos:ServerAddresses, or mark it nacos:Listeners:[i]:Optional = true.",
                        ex);
                }

                if (content is not null)
                {
                    Log.ConfigFromSnapshot(_logger, entry.Key.DataId, entry.Key.Group, SnapshotPath(entry.Key));
                }
            }

            if (content is null)
            {
                if (!entry.Listener.Optional)
                {
                    throw new InvalidOperationException(
                        $"The Nacos configuration {entry.Key}{(entry.Key.Tenant.Length == 0 ? ", namespace 'public'" : string.Empty)} does not exist. Publish it, correct nacos:Listeners, or mark it Optional = true.");
                }

                entry.Set(NacosConfigKey.Md5(null), new Dictionary<string, string?>());
                continue;
            }

            var parser = ConfigFormats.Select(entry.Key.DataId, entry.Listener.Type, content);
            try
            {
                entry.Set(NacosConfigKey.Md5(content), parser.Parse(content));
            }
            catch (FormatException ex)
            {
                if (entry.Data is not null)
                {
                    // A reload of the root (IConfigurationRoot.Reload) must not lose good values to a bad edit.
                    Log.ConfigMalformed(_logger, ex, entry.Key.DataId, entry.Key.Group, parser.Name);
                    entry.Set(NacosConfigKey.Md5(content), entry.Data);
                    continue;
                }

                throw new InvalidOperationException($"The Nacos configuration {entry.Key} is not valid {parser.Name}: {ex.Message}", ex);
            }
        }
    }

    private async Task ListenLoopAsync(CancellationToken cancellationToken)
    {
        using var running = NacosMetrics.LoopRunning("listen");
        var initialDelay = TimeSpan.FromMilliseconds(Math.Max(_options.ListenInterval, 1));
        var retryDelay = initialDelay;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var changed = await _transport!.WaitForChangesAsync(Array.ConvertAll(_entries, e => (e.Key, e.Md5)), cancellationToken).ConfigureAwait(false);
                if (_chooser.MayProbeAgain && _client.UsesV3 && ++_pollsSinceProbe >= _pollsBetweenProbes)
                {
                    // HTTP was chosen while no server answered ServerCheck, and the server that answers now has no v1
                    // API: a 3.x server, which serves gRPC unless its port is closed. Look again at polls 1, 2, 4, ...
                    // then every 32nd (≈ 5 min at the default 10 s): a port that stays closed costs one failed connect.
                    _pollsSinceProbe = 0;
                    _pollsBetweenProbes = Math.Min(_pollsBetweenProbes * 2, 32);
                    await ProbeAgainAsync(cancellationToken).ConfigureAwait(false);
                }

                var reload = false;
                var anyNew = false;
                foreach (var key in changed)
                {
                    var entry = Array.Find(_entries, e => e.Key.DataId == key.DataId && e.Key.Group == key.Group);
                    if (entry is not null)
                    {
                        var md5 = entry.Md5;
                        reload |= await RefreshAsync(entry, cancellationToken).ConfigureAwait(false);
                        anyNew |= md5 != entry.Md5;
                    }
                }

                if (changed.Count > 0 && !reload && !anyNew)
                {
                    // The server keeps reporting a change we cannot see (e.g. a proxy rewriting content): don't spin.
                    await Task.Delay(initialDelay, _time, cancellationToken).ConfigureAwait(false);
                }

                if (reload)
                {
                    lock (_gate)
                    {
                        Data = Merge();
                    }

                    OnReload();
                }

                retryDelay = initialDelay;
                _chooser.HttpAnswered();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Nothing may end the listener but disposal: a failing reload subscriber included.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.ListenFailed(_logger, ex, retryDelay);
                try
                {
                    if (_chooser.MayProbeAgain && ex is NacosException)
                    {
                        await ProbeAgainAsync(cancellationToken).ConfigureAwait(false);
                    }

                    await Task.Delay(retryDelay, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                retryDelay = retryDelay * 2 < MaxRetryDelay ? retryDelay * 2 : MaxRetryDelay;
            }
        }
    }

    /// <summary>Fetches a changed config; returns true when its values changed.</summary>
    private async Task<bool> RefreshAsync(ConfigEntry entry, CancellationToken cancellationToken)
    {
        var content = await _transport!.GetAsync(entry.Key, cancellationToken).ConfigureAwait(false);
        if (content is null)
        {
            // Remember the deletion, or the listener would report the same change forever.
            Log.ConfigDeleted(_logger, entry.Key.DataId, entry.Key.Group);
            entry.Set(NacosConfigKey.Md5(null), entry.Data ?? new Dictionary<string, string?>());
            return false;
        }

        var md5 = NacosConfigKey.Md5(content);
        if (md5 == entry.Md5)
        {
            return false;
        }

        var parser = ConfigFormats.Select(entry.Key.DataId, entry.Listener.Type, content);
        Dictionary<string, string?> data;
        try
        {
            data = parser.Parse(content);
        }
        catch (FormatException ex)
        {
            Log.ConfigMalformed(_logger, ex, entry.Key.DataId, entry.Key.Group, parser.Name);
            entry.Set(md5, entry.Data ?? new Dictionary<string, string?>());
            return false;
        }

        Log.ConfigChanged(_logger, entry.Key.DataId, entry.Key.Group);
        NacosMetrics.ConfigReloaded(entry.Key.DataId);
        entry.Set(md5, data);
        SaveSnapshot(entry.Key, content);
        return true;
    }

    private Dictionary<string, string?> Merge()
    {
        var merged = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in _entries)
        {
            if (entry.Data is { } data)
            {
                foreach (var pair in data)
                {
                    merged[pair.Key] = pair.Value;
                }
            }
        }

        return merged;
    }

    private string SnapshotPath(NacosConfigKey key) =>
        Path.Combine(_snapshotDirectory, InstanceSnapshotStore.Sanitize(key.Tenant.Length == 0 ? "public" : key.Tenant), InstanceSnapshotStore.Sanitize(key.Group), InstanceSnapshotStore.Sanitize(key.DataId));

    private void SaveSnapshot(NacosConfigKey key, string content)
    {
        var path = SnapshotPath(key);
        try
        {
            // Configurations may hold secrets: the folder is private to this user, and refused when another user owns it.
            if (CheckSnapshotFolder(path))
            {
                PrivateSnapshotFolder.Write(path, content);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.SnapshotWriteFailed(_logger, ex, path);
        }
    }

    private string? LoadSnapshot(NacosConfigKey key)
    {
        var path = SnapshotPath(key);
        try
        {
            return CheckSnapshotFolder(path) && File.Exists(path) ? File.ReadAllText(path, Encoding.UTF8) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.SnapshotReadFailed(_logger, ex, path);
            return null;
        }
    }

    private bool CheckSnapshotFolder(string path)
    {
        var refused = PrivateSnapshotFolder.Prepare(_options.GetSnapshotPath(), Path.GetDirectoryName(path)!);
        if (refused is not null)
        {
            Log.SnapshotFolderRefused(_logger, _options.GetSnapshotPath(), refused);
        }

        return refused is null;
    }

    private sealed class ConfigEntry(NacosConfigKey key, NacosListenerOptions listener)
    {
        public NacosConfigKey Key { get; } = key;

        public NacosListenerOptions Listener { get; } = listener;

        public string Md5 { get; private set; } = string.Empty;

        public Dictionary<string, string?>? Data { get; private set; }

        public void Set(string md5, Dictionary<string, string?> data)
        {
            Md5 = md5;
            Data = data;
        }
    }
}
