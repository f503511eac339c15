using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Grpc;
using GrayRelease.Nacos.Http;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Configuration;

/// <summary>
/// Configs over the Nacos gRPC client protocol, on a connection of its own labelled <c>module=config</c> (as
/// client/.../config/impl/ClientWorker.java opens one per config client): ConfigQueryRequest reads,
/// ConfigBatchListenRequest listens to every config with the md5 held, ConfigChangeNotifyRequest pushes mark a config
/// changed, and after every (re)connect one batch listen re-registers all listeners before anything else, its
/// changedConfigs (md5 differs) being what changed while the connection was down.
/// </summary>
internal sealed class GrpcConfigTransport : INacosConfigTransport
{
    /// <summary>ClientWorker listens to every config again every 3 min whatever happened (a lost push is found then).</summary>
    internal static readonly TimeSpan FullListenPeriod = TimeSpan.FromMinutes(3);

    private readonly NacosGrpcConnection _connection;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _tenant;
    private readonly IDisposable _push;
    private readonly IDisposable _redo;
    private readonly object _gate = new();
    private readonly HashSet<NacosConfigKey> _pending = [];
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private (NacosConfigKey Key, string Md5)[]? _configs;
    private bool _listenNeeded = true;
    private long _lastListen;

    public GrpcConfigTransport(NacosOptions options, TimeProvider time, ILogger logger, Func<CancellationToken, ValueTask<string?>>? accessToken, NacosGrpcSettings? settings = null, Func<string, CancellationToken, ValueTask<string?>>? relogin = null)
    {
        _time = time;
        _logger = logger;
        _tenant = options.ConfigTenant;
        _connection = new NacosGrpcConnection(options, logger, time, accessToken, (settings ?? NacosGrpcSettings.FromOptions(options)) with { Module = "config" }, relogin);
        _push = _connection.OnPush<ConfigChangeNotifyRequest>(OnChangeNotifiedAsync);
        _redo = _connection.AddRedo(RelistenAsync);
    }

    public string Name => "gRPC";

    internal NacosGrpcConnection Connection => _connection;

    public async Task<string?> GetAsync(NacosConfigKey key, CancellationToken cancellationToken)
    {
        var response = await _connection.RequestAsync<ConfigQueryResponse>(
            new ConfigQueryRequest { DataId = key.DataId, Group = key.Group, Tenant = key.Tenant },
            cancellationToken).ConfigureAwait(false);
        if (response.Success)
        {
            return response.Content ?? string.Empty;
        }

        // config/.../remote/ConfigQueryRequestHandler.java: not found is a typed answer 500 / errorCode 300 (not an
        // ErrorResponse); 400 = the config is being written ("please try later"), a passing state.
        return response.ErrorCode switch
        {
            ConfigQueryResponse.ConfigNotFound => null,
            ConfigQueryResponse.ConfigQueryConflict => throw new NacosUnavailableException(
                $"Nacos could not read the configuration {key} right now ({response.ErrorCode}: {Naming.NacosNamingClient.Truncate(response.Message ?? string.Empty)}); trying again later."),
            _ => throw new NacosProtocolException(
                $"Nacos refused to read the configuration {key} over gRPC: {response.ResultCode}/{response.ErrorCode} {Naming.NacosNamingClient.Truncate(response.Message ?? string.Empty)}"),
        };
    }

    public async Task<IReadOnlyCollection<NacosConfigKey>> WaitForChangesAsync(IReadOnlyList<(NacosConfigKey Key, string Md5)> configs, CancellationToken cancellationToken)
    {
        bool listen;
        lock (_gate)
        {
            // The redo listens with the md5s held now, so a reconnect compares against what the caller really has.
            _configs = [.. configs];
            listen = _listenNeeded || _time.GetElapsedTime(_lastListen) >= FullListenPeriod;
        }

        if (listen)
        {
            await ListenAsync(_connection, cancellationToken).ConfigureAwait(false);
        }

        Task signal;
        lock (_gate)
        {
            if (_pending.Count > 0)
            {
                return Drain();
            }

            signal = _signal.Task;
        }

        var remaining = FullListenPeriod - _time.GetElapsedTime(_lastListen);
        try
        {
            await signal.WaitAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Time for the periodic full listen: the next call does it.
        }

        lock (_gate)
        {
            return Drain();
        }
    }

    /// <summary>
    /// config/.../remote/ConfigPublishRequestHandler.java: a casMd5 mismatch (ConfigOperationService.publishConfig's
    /// NacosApiException) is answered as a typed failure with errorCode 500 (ResponseCode.FAIL).
    /// </summary>
    public async Task<bool> PublishAsync(NacosConfigKey key, string content, string? casMd5, string? type, CancellationToken cancellationToken)
    {
        var response = await _connection.RequestAsync<ConfigPublishResponse>(
            new ConfigPublishRequest
            {
                DataId = key.DataId,
                Group = key.Group,
                Tenant = key.Tenant,
                Content = content,
                CasMd5 = string.IsNullOrEmpty(casMd5) ? null : casMd5,
                AdditionMap = new Dictionary<string, string>(StringComparer.Ordinal) { ["type"] = type ?? "text" },
            },
            cancellationToken).ConfigureAwait(false);
        if (response.Success)
        {
            return true;
        }

        if (!string.IsNullOrEmpty(casMd5) && response.ErrorCode == 500)
        {
            return false;
        }

        throw new NacosProtocolException(
            $"Nacos refused to publish the configuration {key} over gRPC: {response.ResultCode}/{response.ErrorCode} {Naming.NacosNamingClient.Truncate(response.Message ?? string.Empty)}");
    }

    public async ValueTask DisposeAsync()
    {
        _push.Dispose();
        _redo.Dispose();
        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Under <see cref="_gate"/>: the pending keys, and a fresh signal for the next wait.</summary>
    private List<NacosConfigKey> Drain()
    {
        var changed = _pending.ToList();
        _pending.Clear();
        if (_signal.Task.IsCompleted)
        {
            _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        return changed;
    }

    private void MarkChanged(NacosConfigKey key)
    {
        lock (_gate)
        {
            _pending.Add(key);
            _signal.TrySetResult();
        }
    }

    /// <summary>
    /// Runs on the connection's read loop and is answered when it returns (the server waits 3 s,
    /// config/.../remote/RpcConfigChangeNotifier.java): only queue the key; the provider's loop queries and reloads.
    /// </summary>
    private ValueTask OnChangeNotifiedAsync(ConfigChangeNotifyRequest request, CancellationToken cancellationToken)
    {
        if (!NacosConfigKey.IsValidName(request.DataId) || !NacosConfigKey.IsValidName(request.Group))
        {
            Log.ConfigNotifyIgnored(_logger, Naming.NacosNamingClient.Truncate(request.DataId ?? string.Empty), Naming.NacosNamingClient.Truncate(request.Group ?? string.Empty));
            return ValueTask.CompletedTask;
        }

        // 3.x omits the tenant when the listen sent a blank one, 2.x sends "" (RpcConfigChangeNotifier); blank and
        // "public" are one namespace for config (common/.../utils/NamespaceUtil.java).
        var tenant = string.IsNullOrEmpty(request.Tenant) || request.Tenant == "public" ? string.Empty : request.Tenant;
        if (tenant != _tenant)
        {
            Log.ConfigUnknownChange(_logger, request.DataId!, request.Group!);
            return ValueTask.CompletedTask;
        }

        Log.ConfigChangeNotified(_logger, request.DataId!, request.Group!);
        MarkChanged(new NacosConfigKey(request.DataId!, request.Group!, _tenant));
        return ValueTask.CompletedTask;
    }

    /// <summary>Redo step: the listeners died with the old connection (config/.../remote/ConfigConnectionEventListener.java).</summary>
    private async Task RelistenAsync(INacosGrpcRequester requester, CancellationToken cancellationToken)
    {
        var changed = await ListenAsync(requester, cancellationToken).ConfigureAwait(false);
        if (changed >= 0)
        {
            int count;
            lock (_gate)
            {
                count = _configs?.Length ?? 0;
            }

            Log.ConfigRelistened(_logger, count, changed);
        }
    }

    /// <summary>One ConfigBatchListenRequest for every config; the changed ones are queued. -1 when nothing is listened to yet.</summary>
    private async Task<int> ListenAsync(INacosGrpcRequester requester, CancellationToken cancellationToken)
    {
        (NacosConfigKey Key, string Md5)[]? configs;
        lock (_gate)
        {
            configs = _configs;
        }

        if (configs is null)
        {
            // Before the first load finished: the first WaitForChangesAsync listens with the md5s it then holds.
            return -1;
        }

        ConfigChangeBatchListenResponse response;
        try
        {
            response = await requester.RequestAsync<ConfigChangeBatchListenResponse>(
                new ConfigBatchListenRequest
                {
                    Listen = true,
                    ConfigListenContexts = [.. configs.Select(c => new ConfigListenContext { DataId = c.Key.DataId, Group = c.Key.Group, Tenant = c.Key.Tenant, Md5 = c.Md5 })],
                },
                cancellationToken).ConfigureAwait(false);
            if (!response.Success)
            {
                throw new NacosProtocolException(
                    $"Nacos refused to listen to the configurations over gRPC: {response.ResultCode}/{response.ErrorCode} {Naming.NacosNamingClient.Truncate(response.Message ?? string.Empty)}");
            }
        }
        catch
        {
            lock (_gate)
            {
                _listenNeeded = true;
            }

            throw;
        }

        lock (_gate)
        {
            _listenNeeded = false;
            _lastListen = _time.GetTimestamp();
        }

        var changed = 0;
        foreach (var context in response.ChangedConfigs ?? [])
        {
            var match = Array.FindIndex(configs, c => c.Key.DataId == context.DataId && c.Key.Group == context.Group);
            if (match < 0)
            {
                Log.ConfigUnknownChange(_logger, Naming.NacosNamingClient.Truncate(context.DataId ?? string.Empty), Naming.NacosNamingClient.Truncate(context.Group ?? string.Empty));
                continue;
            }

            MarkChanged(configs[match].Key);
            changed++;
        }

        return changed;
    }
}
