using System.Collections.Concurrent;
using System.Text.Json;
using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Grpc;
using GrayRelease.Nacos.Http;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Naming;

/// <summary>
/// Naming over the gRPC client API, on the application's one <see cref="NacosGrpcConnection"/>. An ephemeral instance
/// lives with the connection (no heartbeats); after every (re)connect the connection's redo step re-registers every
/// instance, then re-subscribes every service, before any other request may use it
/// (client/.../naming/remote/gprc/redo/NamingGrpcRedoService.java does the same from a 3 s task).
/// </summary>
internal sealed class GrpcNamingTransport : INacosNamingTransport, IDisposable
{
    private static readonly TimeSpan DisconnectedWait = TimeSpan.FromSeconds(3);

    private readonly NacosGrpcConnection _connection;
    private readonly NacosOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, NacosRegistration> _instances = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _subscriptions = new(StringComparer.Ordinal);
    private readonly IDisposable _redo;
    private readonly IDisposable _push;
    private Action<NacosServiceInfo, string>? _listHandler;
    private long _outages;
    private bool _wasConnected;

    public GrpcNamingTransport(NacosGrpcConnection connection, NacosOptions options, ILogger logger)
    {
        _connection = connection;
        _options = options;
        _logger = logger;
        _redo = connection.AddRedo(RedoAsync);
        _push = connection.OnPush<NotifySubscriberRequest>(OnNotifyAsync);
        connection.StateChanged += OnStateChanged;
    }

    public NacosTransport Kind => NacosTransport.Grpc;

    public bool UsesHeartbeats => false;

    public bool PushesLists => true;

    public long OutageCount => Interlocked.Read(ref _outages);

    /// <summary>Services subscribed on the connection (tests).</summary>
    internal ICollection<string> Subscriptions => _subscriptions.Keys;

    public async Task RegisterAsync(NacosRegistration registration, CancellationToken cancellationToken)
    {
        if (registration.Ephemeral)
        {
            // Kept before sending: a reconnect in between must re-register it.
            _instances[registration.GroupedName] = registration;
            await SendRegisterAsync(_connection, registration, cancellationToken).ConfigureAwait(false);
            return;
        }

        // api/.../naming/remote/request/PersistentInstanceRequest.java (2.3+): owned by ip:port, not by the connection.
        var answer = await CallAsync<InstanceResponse>(
            _connection,
            new PersistentInstanceRequest { Namespace = _options.NamingNamespace, ServiceName = registration.ServiceName, GroupName = registration.GroupName, Type = InstanceRequest.Register, Instance = ToInstance(registration) },
            cancellationToken).ConfigureAwait(false);
        EnsureSuccess(answer, "register " + registration);
    }

    public async Task DeregisterAsync(NacosRegistration registration, CancellationToken cancellationToken)
    {
        _instances.TryRemove(registration.GroupedName, out _);
        NacosGrpcRequest request = registration.Ephemeral
            ? new InstanceRequest { Namespace = _options.NamingNamespace, ServiceName = registration.ServiceName, GroupName = registration.GroupName, Type = InstanceRequest.Deregister, Instance = ToInstance(registration) }
            : new PersistentInstanceRequest { Namespace = _options.NamingNamespace, ServiceName = registration.ServiceName, GroupName = registration.GroupName, Type = InstanceRequest.Deregister, Instance = ToInstance(registration) };
        var answer = await CallAsync<InstanceResponse>(_connection, request, cancellationToken).ConfigureAwait(false);
        EnsureSuccess(answer, "deregister " + registration);
    }

    public async Task<(NacosServiceInfo? Info, string Body)> SubscribeAsync(string serviceName, int udpPort, string? clientIp, CancellationToken cancellationToken)
    {
        // Recorded first: if the connection is down now, the redo after the reconnect subscribes it and hands the list
        // to the list handler.
        _subscriptions[serviceName] = 0;

        // Not connected: wait briefly (a first connect takes milliseconds), not the whole request timeout, so that a
        // first lookup while Nacos is down falls back to the snapshot quickly, as over HTTP; the redo delivers the
        // list once connected.
        var answer = _connection.State == NacosGrpcConnectionState.Connected
            ? await CallAsync<SubscribeServiceResponse>(_connection, Subscribe(serviceName, true), cancellationToken).ConfigureAwait(false)
            : await CallAsync<SubscribeServiceResponse>(new Limited(_connection, DisconnectedWait), Subscribe(serviceName, true), cancellationToken).ConfigureAwait(false);
        EnsureSuccess(answer, "subscribe to " + serviceName);
        return Convert(answer.ServiceInfo, out var reason) is { } info
            ? (info, Serialize(answer.ServiceInfo!))
            : (null, reason);
    }

    public async Task UnsubscribeAsync(string serviceName, CancellationToken cancellationToken)
    {
        if (!_subscriptions.TryRemove(serviceName, out _))
        {
            return;
        }

        var answer = await CallAsync<SubscribeServiceResponse>(_connection, Subscribe(serviceName, false), cancellationToken).ConfigureAwait(false);
        EnsureSuccess(answer, "unsubscribe from " + serviceName);
    }

    public void SetListHandler(Action<NacosServiceInfo, string>? handler) => Volatile.Write(ref _listHandler, handler);

    public void Dispose()
    {
        _connection.StateChanged -= OnStateChanged;
        _redo.Dispose();
        _push.Dispose();
    }

    /// <summary>Converts a pushed / answered service info; null (with why) when it cannot be used.</summary>
    internal static NacosServiceInfo? Convert(NacosGrpcServiceInfo? info, out string reason)
    {
        reason = string.Empty;
        if (info is null || string.IsNullOrEmpty(info.Name))
        {
            reason = "no service name";
            return null;
        }

        var hosts = new List<NacosHost>(info.Hosts?.Count ?? 0);
        foreach (var host in info.Hosts ?? [])
        {
            if (host is null || string.IsNullOrEmpty(host.Ip) || host.Port is <= 0 or > 65535)
            {
                reason = "a host without a valid ip / port";
                return null;
            }

            hosts.Add(new NacosHost(
                host.InstanceId,
                host.Ip,
                host.Port,
                host.Weight,
                host.Healthy,
                host.Enabled,
                host.Ephemeral,
                host.ClusterName,
                host.ServiceName,
                host.Metadata is null ? new Dictionary<string, string>(StringComparer.Ordinal) : new Dictionary<string, string>(host.Metadata, StringComparer.Ordinal)));
        }

        return new NacosServiceInfo(info.Name, info.GroupName, info.Clusters ?? string.Empty, info.CacheMillis, info.LastRefTime, hosts);
    }

    private static string Serialize(NacosGrpcServiceInfo info) => JsonSerializer.Serialize(info, NacosGrpcCodec.Json);

    private static NacosGrpcInstance ToInstance(NacosRegistration registration) => new()
    {
        Ip = registration.Ip,
        Port = registration.Port,
        Weight = registration.Weight,
        Healthy = true,
        Enabled = registration.Enabled,
        Ephemeral = registration.Ephemeral,
        ClusterName = registration.ClusterName,
        Metadata = new Dictionary<string, string>(registration.Metadata, StringComparer.Ordinal),
    };

    private static void EnsureSuccess(NacosGrpcResponse answer, string what)
    {
        if (!answer.Success)
        {
            // A typed failure (param check 400, auth 403 is mapped by the connection): the server refused this request.
            throw new NacosProtocolException($"Nacos refused to {what}: resultCode {answer.ResultCode}, errorCode {answer.ErrorCode}: {Printable(NacosNamingClient.Truncate(answer.Message ?? string.Empty))}");
        }
    }

    /// <summary>Server text in a log line: no control characters (no forged log lines).</summary>
    private static string Printable(string text) => string.Create(text.Length, text, static (span, source) =>
    {
        for (var i = 0; i < source.Length; i++)
        {
            span[i] = char.IsControl(source[i]) ? '?' : source[i];
        }
    });

    private static async Task<TResponse> CallAsync<TResponse>(INacosGrpcRequester requester, NacosGrpcRequest request, CancellationToken cancellationToken)
        where TResponse : NacosGrpcResponse
    {
        try
        {
            return await requester.RequestAsync<TResponse>(request, cancellationToken).ConfigureAwait(false);
        }
        catch (NacosGrpcException ex) when (ex.ErrorCode is 400 or 500 or 302)
        {
            // ErrorResponse from the handler (e.g. 400 "Instance 'clusterName' should be ..."): a refusal, not an outage;
            // the server's reason as long as over HTTP (the connection's own message keeps only its start).
            throw new NacosProtocolException(
                $"Nacos refused {ex.RequestType}: errorCode {ex.ErrorCode}: {Printable(NacosNamingClient.Truncate(ex.ServerMessage ?? string.Empty))}", ex);
        }
    }

    /// <summary>The connection with a shorter time limit per request.</summary>
    private sealed class Limited(NacosGrpcConnection connection, TimeSpan limit) : INacosGrpcRequester
    {
        public Task<TResponse> RequestAsync<TResponse>(NacosGrpcRequest request, CancellationToken cancellationToken)
            where TResponse : NacosGrpcResponse => connection.RequestAsync<TResponse>(request, limit, cancellationToken);
    }

    private SubscribeServiceRequest Subscribe(string serviceName, bool subscribe) => new()
    {
        Namespace = _options.NamingNamespace,
        ServiceName = serviceName,
        GroupName = _options.GroupName,
        Subscribe = subscribe,
        Clusters = string.Empty,
    };

    private async Task SendRegisterAsync(INacosGrpcRequester requester, NacosRegistration registration, CancellationToken cancellationToken)
    {
        var answer = await CallAsync<InstanceResponse>(
            requester,
            new InstanceRequest { Namespace = _options.NamingNamespace, ServiceName = registration.ServiceName, GroupName = registration.GroupName, Type = InstanceRequest.Register, Instance = ToInstance(registration) },
            cancellationToken).ConfigureAwait(false);
        EnsureSuccess(answer, "register " + registration);
    }

    /// <summary>After every (re)connect: instances first (callers see this application again), then subscriptions.</summary>
    private async Task RedoAsync(INacosGrpcRequester requester, CancellationToken cancellationToken)
    {
        var failures = 0;

        // On the connection's first session nothing was ever sent: each stored instance's own RegisterAsync is waiting
        // for this session (or failed, and the registration service retries it). Sending it here too registered it
        // twice at every start and logged a "re-registration" that was none.
        var registrations = _connection.SessionsOpened <= 1 ? [] : _instances.Values;
        foreach (var registration in registrations)
        {
            try
            {
                // The registration as first sent: enabled=false stays false.
                await SendRegisterAsync(requester, registration, cancellationToken).ConfigureAwait(false);
                Log.GrpcInstanceRedone(_logger, registration.ToString());
            }
            catch (Exception ex) when (ex is NacosException && !cancellationToken.IsCancellationRequested)
            {
                Log.GrpcNamingRedoFailed(_logger, ex, registration.ToString());
                failures++;
            }
        }

        foreach (var serviceName in _subscriptions.Keys)
        {
            try
            {
                var answer = await CallAsync<SubscribeServiceResponse>(requester, Subscribe(serviceName, true), cancellationToken).ConfigureAwait(false);
                EnsureSuccess(answer, "subscribe to " + serviceName);
                Deliver(answer.ServiceInfo, "redo");
            }
            catch (Exception ex) when (ex is NacosException && !cancellationToken.IsCancellationRequested)
            {
                Log.GrpcNamingRedoFailed(_logger, ex, serviceName);
                failures++;
            }
        }

        if (failures > 0)
        {
            // The connection runs this step again every 3 s while connected (NacosGrpcConnection.RetryRedoAsync); every
            // instance and subscription is sent again (each is idempotent on the server).
            throw new NacosProtocolException($"{failures} registration(s) / subscription(s) of the naming redo failed.");
        }
    }

    private ValueTask OnNotifyAsync(NotifySubscriberRequest request, CancellationToken cancellationToken)
    {
        Deliver(request.ServiceInfo, "push");
        return ValueTask.CompletedTask;
    }

    private void Deliver(NacosGrpcServiceInfo? serviceInfo, string source)
    {
        if (Convert(serviceInfo, out var reason) is not { } info)
        {
            // Answered all the same: a list we cannot read would otherwise be re-pushed every second, for ever.
            Log.GrpcMalformedList(_logger, source, reason);
            return;
        }

        Volatile.Read(ref _listHandler)?.Invoke(info, Serialize(serviceInfo!));
    }

    private void OnStateChanged(object? sender, NacosGrpcStateChangedEventArgs e)
    {
        if (e.State == NacosGrpcConnectionState.Connected)
        {
            _wasConnected = true;
        }
        else if (e.State == NacosGrpcConnectionState.Disconnected && _wasConnected)
        {
            // The reconnect window is an outage: a restarted server lists instances only as their connections come back.
            _wasConnected = false;
            Interlocked.Increment(ref _outages);
        }
    }
}
