using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using GrayRelease.Nacos.Emulator.Config;
using GrayRelease.Nacos.Emulator.Diagnostics;
using GrayRelease.Nacos.Emulator.Naming;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Emulator.Grpc;

/// <summary>
/// The connection registry (core/remote/ConnectionManager.java) and the server-to-client requests: naming push
/// (naming/push/v2/task/PushExecuteTask.java), config change notify (config/server/remote/RpcConfigChangeNotifier.java),
/// client detection (core/remote/NacosRuntimeConnectionEjector.java) and connect reset.
/// </summary>
internal sealed class GrpcConnections : IGrpcConnectionControl
{
    // naming/constants/PushConstants.java: 5 s per push, retried every 1 s while the connection lives.
    private static readonly TimeSpan NamingPushTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan NamingPushRetry = TimeSpan.FromSeconds(1);

    // RpcConfigChangeNotifier.java: 3 s per notify, retry after 2n s, 50 failures unregister the connection.
    private static readonly TimeSpan ConfigNotifyTimeout = TimeSpan.FromSeconds(3);
    private const int ConfigNotifyMaxRetries = 50;

    // NacosRuntimeConnectionEjector.java: idle ≥ 20 s → ClientDetectionRequest; no success in 5 s → unregister.
    private const long DetectionIdleMillis = 20_000;
    private static readonly TimeSpan DetectionTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ResetTimeout = TimeSpan.FromSeconds(3);

    private readonly ConcurrentDictionary<string, GrpcConnection> _byTransport = new(StringComparer.Ordinal);
    private readonly NamingStore _naming;
    private readonly ConfigStore _configs;
    private readonly NacosEmulatorOptions _options;
    private readonly NacosEmulatorFaults _faults;
    private readonly ILogger _logger;
    private long _requestIds = 1000;

    public GrpcConnections(NamingStore naming, ConfigStore configs, NacosEmulatorOptions options, NacosEmulatorFaults faults, ILogger logger)
    {
        _naming = naming;
        _configs = configs;
        _options = options;
        _faults = faults;
        _logger = logger;
    }

    public int Count => _byTransport.Count;

    public IEnumerable<GrpcConnection> All => _byTransport.Values;

    private long NowMillis => _options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>core/remote/grpc/PushAckIdGenerator.java: a server-wide counter, sent as a decimal string.</summary>
    public string NextRequestId() => Interlocked.Increment(ref _requestIds).ToString(CultureInfo.InvariantCulture);

    public GrpcConnection? Find(string transportId) => _byTransport.GetValueOrDefault(transportId);

    /// <summary>
    /// Kestrel connection middleware: a Nacos connection per socket (AddressTransportFilter.java), removed with
    /// everything it owns as soon as the socket closes.
    /// </summary>
    public ConnectionDelegate Middleware(ConnectionDelegate next) => async context =>
    {
        if (_faults.RejectsGrpcConnections)
        {
            Log.GrpcConnectionRejected(_logger, context.RemoteEndPoint?.ToString() ?? "(unknown)");
            context.Abort(new ConnectionAbortedException("Nacos emulator fault: new connections are rejected."));
            return;
        }

        var remote = context.RemoteEndPoint as IPEndPoint;
        var ip = remote?.Address is { IsIPv4MappedToIPv6: true } mapped ? mapped.MapToIPv4().ToString() : remote?.Address.ToString() ?? "unknown";
        var port = remote?.Port ?? 0;
        var id = NowMillis.ToString(CultureInfo.InvariantCulture) + "_" + ip + "_" + port.ToString(CultureInfo.InvariantCulture);
        var connection = new GrpcConnection(id, ip, port, NowMillis, () => context.Abort(new ConnectionAbortedException("Connection closed by the Nacos emulator.")));
        _byTransport[context.ConnectionId] = connection;
        Log.GrpcConnectionOpened(_logger, id);
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            _byTransport.TryRemove(context.ConnectionId, out _);
            Unregister(connection, "socket closed");
        }
    };

    /// <summary>Drops everything the connection owns (instances are deregistered and pushed) and closes it.</summary>
    public void Unregister(GrpcConnection connection, string reason)
    {
        if (connection.IsClosed)
        {
            return;
        }

        connection.Close();
        List<(ServiceKey Key, List<(string Ip, int Port)> Addresses)> published;
        lock (connection.Gate)
        {
            published = [.. connection.Published.Select(pair => (pair.Key, pair.Value))];
            connection.Published.Clear();
            connection.Subscriptions.Clear();
            connection.Listeners.Clear();
        }

        foreach (var (key, addresses) in published)
        {
            foreach (var (ip, port) in addresses)
            {
                if (_naming.DeregisterOwned(key, ip, port, connection.Id))
                {
                    Log.InstanceDeregistered(_logger, key.NamespaceId, key.GroupedName, ip, port);
                }
            }
        }

        Log.GrpcConnectionClosed(_logger, connection.Id, reason);
    }

    public void CloseAll()
    {
        foreach (var connection in _byTransport.Values)
        {
            Unregister(connection, "server stopping");
        }
    }

    /// <summary>Registry changes: every connection subscribed to the service gets a push.</summary>
    public void OnServiceChanged(ServiceKey key)
    {
        foreach (var connection in _byTransport.Values)
        {
            SchedulePush(connection, key);
        }
    }

    public void SchedulePush(GrpcConnection connection, ServiceKey key)
    {
        lock (connection.Gate)
        {
            if (connection.IsClosed || !connection.Subscriptions.TryGetValue(key, out var subscription))
            {
                return;
            }

            subscription.Pending = true;
            if (subscription.Running)
            {
                return;
            }

            subscription.Running = true;
        }

        using (ExecutionContext.SuppressFlow())
        {
            _ = Task.Run(() => PushLoopAsync(connection, key));
        }
    }

    /// <summary>One loop per (connection, service) while pushes are owed; changes during the delay are pushed together.</summary>
    private async Task PushLoopAsync(GrpcConnection connection, ServiceKey key)
    {
        try
        {
            if (_options.GrpcPushDelay > TimeSpan.Zero)
            {
                await Task.Delay(_options.GrpcPushDelay, connection.Closed).ConfigureAwait(false);
            }

            while (true)
            {
                string? clusters;
                lock (connection.Gate)
                {
                    if (connection.IsClosed || !connection.Subscriptions.TryGetValue(key, out var subscription) || !subscription.Pending)
                    {
                        if (connection.Subscriptions.TryGetValue(key, out subscription))
                        {
                            subscription.Running = false;
                        }

                        return;
                    }

                    subscription.Pending = false;
                    clusters = subscription.Clusters;
                }

                if (!await PushOnceAsync(connection, key, clusters).ConfigureAwait(false))
                {
                    lock (connection.Gate)
                    {
                        if (connection.Subscriptions.TryGetValue(key, out var subscription))
                        {
                            subscription.Pending = true;
                        }
                    }

                    await Task.Delay(NamingPushRetry, connection.Closed).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (connection.IsClosed)
        {
        }
#pragma warning disable CA1031 // A push loop must never die silently: log, and let the next change start a new one.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.GrpcPushLoopFailed(_logger, connection.Id, key.GroupedName, exception);
            lock (connection.Gate)
            {
                if (connection.Subscriptions.TryGetValue(key, out var subscription))
                {
                    subscription.Running = false;
                }
            }
        }
    }

    private async Task<bool> PushOnceAsync(GrpcConnection connection, ServiceKey key, string? clusters)
    {
        var requestId = NextRequestId();
        var hosts = _naming.Select(key, clusters ?? string.Empty, healthyOnly: false);
        var body = GrpcJson.ServerRequest(requestId, "naming", writer =>
            ServiceInfoWriter.Write(writer, "serviceInfo", key, clusters, hosts, _options));
        try
        {
            var answer = await connection.RequestAsync("NotifySubscriberRequest", requestId, body, NamingPushTimeout, CancellationToken.None).ConfigureAwait(false);
            var ok = GrpcJson.Int(answer, "resultCode", 0) == GrpcJson.ResultSuccess;
            Log.GrpcPushed(_logger, connection.Id, key.GroupedName, requestId, hosts.Count, ok);
            return ok;
        }
        catch (Exception exception) when (exception is TimeoutException or IOException or InvalidOperationException
            || (exception is OperationCanceledException && !connection.IsClosed))
        {
            Log.GrpcPushFailed(_logger, connection.Id, key.GroupedName, requestId, exception.GetType().Name);
            return false;
        }
    }

    /// <summary>Runs until stopped: on every config change, notifies the connections whose listened md5 moved.</summary>
    public async Task WatchConfigsAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            var signal = _configs.WhenChanged();
            try
            {
                NotifyChangedConfigs();
            }
#pragma warning disable CA1031 // The watch loop logs and goes on.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                Log.GrpcConfigWatchFailed(_logger, exception);
            }

            try
            {
                await signal.WaitAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void NotifyChangedConfigs()
    {
        foreach (var connection in _byTransport.Values)
        {
            List<(ConfigKey Key, string? Tenant)>? changed = null;
            lock (connection.Gate)
            {
                foreach (var (key, listener) in connection.Listeners)
                {
                    var md5 = _configs.GetMd5(key);
                    if (!string.Equals(md5, listener.ServerMd5, StringComparison.Ordinal))
                    {
                        listener.ServerMd5 = md5;
                        (changed ??= []).Add((key, listener.TenantAsSent));
                    }
                }
            }

            if (changed is null)
            {
                continue;
            }

            foreach (var (key, tenant) in changed)
            {
                using (ExecutionContext.SuppressFlow())
                {
                    _ = Task.Run(() => NotifyConfigAsync(connection, key, tenant));
                }
            }
        }
    }

    private async Task NotifyConfigAsync(GrpcConnection connection, ConfigKey key, string? tenantAsSent)
    {
        try
        {
            for (var attempt = 1; attempt <= ConfigNotifyMaxRetries; attempt++)
            {
                lock (connection.Gate)
                {
                    if (connection.IsClosed || !connection.Listeners.ContainsKey(key))
                    {
                        return;
                    }
                }

                var requestId = NextRequestId();
                var body = GrpcJson.ServerRequest(requestId, "config", writer =>
                {
                    writer.WriteString("dataId", key.DataId);
                    writer.WriteString("group", key.Group);

                    // 3.x leaves tenant out when the listen sent a blank one; 2.x sends "" (RpcConfigChangeNotifier.java).
                    if (!string.IsNullOrWhiteSpace(tenantAsSent))
                    {
                        writer.WriteString("tenant", tenantAsSent);
                    }
                    else if (_options.ServerLine == NacosServerLine.Nacos2)
                    {
                        writer.WriteString("tenant", string.Empty);
                    }
                });
                try
                {
                    var answer = await connection.RequestAsync("ConfigChangeNotifyRequest", requestId, body, ConfigNotifyTimeout, CancellationToken.None).ConfigureAwait(false);
                    if (GrpcJson.Int(answer, "resultCode", 0) == GrpcJson.ResultSuccess)
                    {
                        Log.GrpcConfigNotified(_logger, connection.Id, key.Group, key.DataId, requestId);
                        return;
                    }
                }
                catch (Exception exception) when (exception is TimeoutException or IOException or InvalidOperationException
                    || (exception is OperationCanceledException && !connection.IsClosed))
                {
                    Log.GrpcPushFailed(_logger, connection.Id, key.Group + "/" + key.DataId, requestId, exception.GetType().Name);
                }

                await Task.Delay(TimeSpan.FromSeconds(2 * attempt), connection.Closed).ConfigureAwait(false);
            }

            Unregister(connection, "config change notify failed " + ConfigNotifyMaxRetries + " times");
        }
        catch (OperationCanceledException) when (connection.IsClosed)
        {
        }
#pragma warning disable CA1031 // A notify task logs and ends.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.GrpcConfigWatchFailed(_logger, exception);
        }
    }

    /// <summary>From the health timer: idle connections get a ClientDetectionRequest; no success in 5 s closes them.</summary>
    public void CheckIdle()
    {
        var now = NowMillis;
        foreach (var connection in _byTransport.Values)
        {
            if (!connection.Registered || connection.IsClosed || now - connection.LastActiveMillis < DetectionIdleMillis
                || !connection.TryStartDetection())
            {
                continue;
            }

            using (ExecutionContext.SuppressFlow())
            {
                _ = Task.Run(() => DetectAsync(connection));
            }
        }
    }

    private async Task DetectAsync(GrpcConnection connection)
    {
        try
        {
            var requestId = NextRequestId();
            var ok = false;
            try
            {
                var answer = await connection.RequestAsync(
                    "ClientDetectionRequest", requestId, GrpcJson.ServerRequest(requestId, "internal", null), DetectionTimeout, CancellationToken.None).ConfigureAwait(false);
                ok = GrpcJson.Int(answer, "resultCode", 0) == GrpcJson.ResultSuccess;
            }
            catch (Exception exception) when (exception is TimeoutException or IOException or InvalidOperationException or OperationCanceledException)
            {
                ok = false;
            }

            if (ok)
            {
                connection.Touch(NowMillis);
            }
            else if (!connection.IsClosed)
            {
                Unregister(connection, "client detection failed");
            }
        }
#pragma warning disable CA1031 // Detection logs and ends; the next tick tries again.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.GrpcConfigWatchFailed(_logger, exception);
        }
        finally
        {
            connection.EndDetection();
        }
    }

    /// <inheritdoc />
    public int DropAll()
    {
        var count = 0;
        foreach (var connection in _byTransport.Values)
        {
            Unregister(connection, "fault: drop every connection");
            count++;
        }

        return count;
    }

    /// <inheritdoc />
    public async Task<int> ResetAllAsync(CancellationToken cancellationToken)
    {
        var sends = new List<Task<bool>>();
        foreach (var connection in _byTransport.Values)
        {
            if (connection.Registered && connection.HasStream && !connection.IsClosed)
            {
                sends.Add(ResetAsync(connection, cancellationToken));
            }
        }

        var results = await Task.WhenAll(sends).ConfigureAwait(false);
        return results.Count(sent => sent);
    }

    /// <summary>ConnectResetRequest without a target (fixtures/grpc/ConnectResetRequest.noTarget.json): "go to the next server".</summary>
    private async Task<bool> ResetAsync(GrpcConnection connection, CancellationToken cancellationToken)
    {
        var requestId = NextRequestId();
        try
        {
            await connection.RequestAsync("ConnectResetRequest", requestId, GrpcJson.ServerRequest(requestId, "internal", null), ResetTimeout, cancellationToken).ConfigureAwait(false);
            Log.GrpcConnectionReset(_logger, connection.Id, requestId);
            return true;
        }
        catch (Exception exception) when (exception is TimeoutException or IOException or InvalidOperationException
            || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Log.GrpcPushFailed(_logger, connection.Id, "ConnectResetRequest", requestId, exception.GetType().Name);
            return false;
        }
    }

    /// <summary>An answer on the stream (requestId echoed) completes the server request that waits for it.</summary>
    public void OnClientAnswer(GrpcConnection connection, JsonElement body)
    {
        connection.Touch(NowMillis);
        var requestId = GrpcJson.String(body, "requestId");
        if (requestId is null || !connection.Answer(requestId, body))
        {
            // core/remote/RpcAckCallbackSynchronizer.java: an answer nobody waits for is only logged.
            Log.GrpcUnexpectedAnswer(_logger, connection.Id, requestId ?? "(none)");
        }
    }
}

/// <summary>What the fault switches need from the gRPC server.</summary>
internal interface IGrpcConnectionControl
{
    /// <summary>Closes every connection (socket and all); returns how many.</summary>
    int DropAll();

    /// <summary>Sends ConnectResetRequest on every set-up connection; returns how many answered.</summary>
    Task<int> ResetAllAsync(CancellationToken cancellationToken);
}
