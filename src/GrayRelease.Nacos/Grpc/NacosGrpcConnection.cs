using Grpc.Core;
using Grpc.Net.Client;
using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Http;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Grpc;

/// <summary>
/// The one gRPC connection of an application to Nacos, shared by registration, discovery and configuration: a
/// supervisor loop connects (ServerCheck, bi-stream, ConnectionSetup, SetupAck), runs the redo steps, opens the
/// connection to callers, waits for it to end (stream closed, health check failed, ConnectResetRequest, 301) and
/// connects again, rotating through the servers (common/.../remote/client/RpcClient.java does the same).
/// </summary>
internal sealed partial class NacosGrpcConnection : INacosGrpcRequester, IAsyncDisposable
{
    private readonly NacosGrpcSettings _settings;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Func<CancellationToken, ValueTask<string?>>? _accessToken;

    // After a 403: the token to retry with once (NacosHttpClient.ReloginAsync), or null.
    private readonly Func<string, CancellationToken, ValueTask<string?>>? _relogin;
    private readonly List<NacosGrpcServer> _servers;
    private readonly List<Func<INacosGrpcRequester, CancellationToken, Task>> _redo = [];
    private readonly Dictionary<Type, Func<NacosGrpcRequest, CancellationToken, ValueTask>> _pushHandlers = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private TaskCompletionSource<Session> _ready = NewReady();
    private Task? _loop;
    private int _nextServer;
    private int _sessionsOpened;
    private bool _disposed;

    public NacosGrpcConnection(
        NacosOptions options,
        ILogger logger,
        TimeProvider? time = null,
        Func<CancellationToken, ValueTask<string?>>? accessToken = null,
        NacosGrpcSettings? settings = null,
        Func<string, CancellationToken, ValueTask<string?>>? relogin = null)
    {
        _relogin = relogin;
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _accessToken = accessToken;
        _settings = settings ?? NacosGrpcSettings.FromOptions(options);
        _servers = NacosGrpcServer.FromOptions(options);
        if (_servers.Count == 0)
        {
            throw new ArgumentException(Configuration.NacosOptionsValidatorMessages.NoServers(options), nameof(options));
        }

        Tenant = options.ConfigTenant;

        // RpcClient starts at a random server so that clients spread over the cluster.
        _nextServer = Random.Shared.Next(_servers.Count);
    }

    /// <summary>Raised on every state change, from the supervisor loop; a throwing handler is logged.</summary>
    public event EventHandler<NacosGrpcStateChangedEventArgs>? StateChanged;

    public NacosGrpcConnectionState State { get; private set; } = NacosGrpcConnectionState.Disconnected;

    /// <summary>Server-assigned id of the live connection (<c>epochMillis_ip_port</c>), if any.</summary>
    public string? ConnectionId { get; private set; }

    /// <summary>Server of the live connection, if any.</summary>
    public NacosGrpcServer? CurrentServer { get; private set; }

    public IReadOnlyList<NacosGrpcServer> Servers => _servers;

    /// <summary>Sessions opened so far; 1 while the redo steps of the very first session run.</summary>
    internal int SessionsOpened => Volatile.Read(ref _sessionsOpened);

    private string Tenant { get; }

    /// <summary>
    /// Adds a step run, in the order added, after every (re)connect before the connection is open to other requests
    /// (re-register, re-subscribe, re-listen). A failing step is logged and the others still run.
    /// </summary>
    public IDisposable AddRedo(Func<INacosGrpcRequester, CancellationToken, Task> step)
    {
        ArgumentNullException.ThrowIfNull(step);
        lock (_redo)
        {
            _redo.Add(step);
        }

        return new Unsubscriber(() =>
        {
            lock (_redo)
            {
                _redo.Remove(step);
            }
        });
    }

    /// <summary>
    /// Handles a server push (<see cref="NotifySubscriberRequest"/>, <see cref="ConfigChangeNotifyRequest"/>): the
    /// connection answers with the same requestId once the handler returns, with an error answer (so that the server
    /// retries) if it throws. One handler per type; a later one replaces it.
    /// </summary>
    public IDisposable OnPush<TRequest>(Func<TRequest, CancellationToken, ValueTask> handler)
        where TRequest : NacosGrpcRequest
    {
        ArgumentNullException.ThrowIfNull(handler);
        Func<NacosGrpcRequest, CancellationToken, ValueTask> wrapped = (request, ct) => handler((TRequest)request, ct);
        lock (_pushHandlers)
        {
            _pushHandlers[typeof(TRequest)] = wrapped;
        }

        return new Unsubscriber(() =>
        {
            lock (_pushHandlers)
            {
                if (_pushHandlers.TryGetValue(typeof(TRequest), out var current) && current == wrapped)
                {
                    _pushHandlers.Remove(typeof(TRequest));
                }
            }
        });
    }

    /// <summary>Starts the supervisor loop once; requests start it too.</summary>
    public void Start()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_loop is not null)
            {
                return;
            }

            using (ExecutionContext.SuppressFlow())
            {
                _loop = Task.Run(() => RunAsync(_stop.Token));
            }
        }
    }

    /// <summary>Starts and waits until connected (redo done); false when <paramref name="timeout"/> passes first.</summary>
    public async Task<bool> WaitUntilConnectedAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Start();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        linked.CancelAfter(timeout);
        try
        {
            await WaitReadyAsync(linked.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// Sends a unary request once the connection is up, with the access token, within <c>nacos:DefaultTimeOut</c>
    /// (waiting for a reconnect included). ErrorResponse → <see cref="NacosGrpcException"/>; 403 →
    /// <see cref="NacosAuthenticationException"/>; no connection, timeout, 300/301 → <see cref="NacosUnavailableException"/>.
    /// Typed failures (e.g. ConfigQuery "config data not exist") are returned for the caller to read.
    /// </summary>
    public Task<TResponse> RequestAsync<TResponse>(NacosGrpcRequest request, CancellationToken cancellationToken)
        where TResponse : NacosGrpcResponse => RequestAsync<TResponse>(request, _settings.RequestTimeout, cancellationToken);

    /// <summary>As <see cref="RequestAsync{TResponse}(NacosGrpcRequest, CancellationToken)"/> with its own timeout.</summary>
    public async Task<TResponse> RequestAsync<TResponse>(NacosGrpcRequest request, TimeSpan timeLimit, CancellationToken cancellationToken)
        where TResponse : NacosGrpcResponse
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeLimit, TimeSpan.Zero);
        Start();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        timeout.CancelAfter(timeLimit);
        Exception? last = null;
        while (true)
        {
            Session session;
            try
            {
                session = await WaitReadyAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new NacosUnavailableException(
                    $"No gRPC connection to Nacos ({string.Join(", ", _servers)}) within {timeLimit.TotalMilliseconds:0} ms for {NacosGrpcCodec.TypeName(request)}.", last);
            }

            try
            {
                return await session.SendAsync<TResponse>(request, withToken: true, timeout.Token).ConfigureAwait(false);
            }
            catch (NacosUnavailableException ex) when (session.HasEnded && !timeout.IsCancellationRequested)
            {
                // The connection broke under this call; Java retries within its timeout too (RpcClient.request). The
                // requests we send are idempotent (register, subscribe, listen, query, publish of the same content).
                last = ex;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new NacosUnavailableException(
                    $"Nacos at {session.Server} did not answer {NacosGrpcCodec.TypeName(request)} within {timeLimit.TotalMilliseconds:0} ms.", last);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task? loop;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            loop = _loop;
        }

        _stop.Cancel();
        if (loop is not null)
        {
            try
            {
                await loop.ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Disposal never rethrows a loop's fault.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.GrpcLoopFailed(_logger, ex, "supervisor");
            }
        }

        SetState(NacosGrpcConnectionState.Closed, null, null, "disposed");
        _stop.Dispose();
    }

    /// <summary>
    /// Whether a server speaks the gRPC client API, without opening a Nacos connection: the first configured server
    /// that answers ServerCheck within <see cref="NacosGrpcSettings.ServerCheckTimeout"/>, or null (1.x servers, port
    /// closed). For the transport negotiation (<c>nacos:Transport = Auto</c>).
    /// </summary>
    public static async Task<NacosGrpcServer?> ProbeAsync(NacosOptions options, NacosGrpcSettings settings, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(logger);
        foreach (var server in NacosGrpcServer.FromOptions(options))
        {
            using var channel = CreateChannel(server, settings);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(settings.ServerCheckTimeout);
            try
            {
                var answer = await channel.CreateCallInvoker()
                    .AsyncUnaryCall(NacosGrpcMethods.Request, null, new CallOptions(cancellationToken: timeout.Token), NacosGrpcCodec.Encode(new ServerCheckRequest()))
                    .ResponseAsync.ConfigureAwait(false);
                if (NacosGrpcCodec.Decode(answer) is ServerCheckResponse { Success: true })
                {
                    return server;
                }

                Log.GrpcConnectFailed(logger, server.ToString(), "ServerCheck was not answered with success");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex) when (ex is RpcException or NacosProtocolException or OperationCanceledException)
            {
                Log.GrpcConnectFailed(logger, server.ToString(), ex is OperationCanceledException ? "no answer to ServerCheck within " + settings.ServerCheckTimeout : ex.Message);
            }
        }

        return null;
    }

    /// <summary>
    /// A channel that never opens a second HTTP/2 connection (one Nacos connection = one socket), pings at most every
    /// <see cref="NacosGrpcSettings.KeepAlivePingDelay"/>, and does no gRPC-level retry (the transport decides).
    /// </summary>
    private static GrpcChannel CreateChannel(NacosGrpcServer server, NacosGrpcSettings settings)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = false,
            KeepAlivePingDelay = settings.KeepAlivePingDelay,
            KeepAlivePingTimeout = settings.KeepAlivePingTimeout,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            ConnectTimeout = settings.ServerCheckTimeout,
        };
        if (server.Tls && settings.ValidateServerCertificate is { } validate)
        {
            handler.SslOptions = new System.Net.Security.SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) => validate(certificate as System.Security.Cryptography.X509Certificates.X509Certificate2),
            };
        }

        return GrpcChannel.ForAddress(server.Address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = settings.MaxMessageSize,
            MaxSendMessageSize = settings.MaxMessageSize,
            MaxRetryAttempts = 0,
        });
    }

    private static TaskCompletionSource<Session> NewReady() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Task<Session> WaitReadyAsync(CancellationToken cancellationToken)
    {
        Task<Session> ready;
        lock (_gate)
        {
            ready = _ready.Task;
        }

        return ready.WaitAsync(cancellationToken);
    }

    /// <summary>Called by a session the moment it ends, so that no caller picks it up again.</summary>
    private void OnSessionEnded(Session session)
    {
        lock (_gate)
        {
            if (_ready.Task.IsCompletedSuccessfully && ReferenceEquals(_ready.Task.Result, session))
            {
                _ready = NewReady();
            }
        }
    }

    private async Task RunAsync(CancellationToken stop)
    {
        using var running = NacosMetrics.LoopRunning("grpc.connection");
        var failures = 0;
        Session? previous = null;
        NacosGrpcServer? preferred = null;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                Session? session = null;
                try
                {
                    var server = preferred ?? NextServer();
                    preferred = null;
                    SetState(NacosGrpcConnectionState.Connecting, server.ToString(), null, null);
                    session = await Session.ConnectAsync(this, server, stop).ConfigureAwait(false);
                    failures = 0;
                    Interlocked.Increment(ref _sessionsOpened);

                    // After a ConnectResetRequest the old connection stays up until the new one is (RpcClient).
                    if (previous is not null)
                    {
                        await previous.DisposeAsync().ConfigureAwait(false);
                        previous = null;
                    }

                    var failedSteps = await RunRedoAsync(session, stop).ConfigureAwait(false);
                    lock (_gate)
                    {
                        if (!session.HasEnded)
                        {
                            _ready.TrySetResult(session);
                        }
                    }

                    CurrentServer = server;
                    ConnectionId = session.ConnectionId;
                    if (!session.HasEnded)
                    {
                        Log.GrpcConnected(_logger, server.ToString(), session.ConnectionId);
                        SetState(NacosGrpcConnectionState.Connected, server.ToString(), session.ConnectionId, null);
                    }

                    using var sessionDone = CancellationTokenSource.CreateLinkedTokenSource(stop);
                    var retrying = failedSteps.Count > 0 && !session.HasEnded
                        ? RetryRedoAsync(session, failedSteps, sessionDone.Token)
                        : Task.CompletedTask;
                    SessionEnd end;
                    try
                    {
                        end = await session.Ended.WaitAsync(stop).ConfigureAwait(false);
                    }
                    finally
                    {
                        await sessionDone.CancelAsync().ConfigureAwait(false);
                        await retrying.ConfigureAwait(false);
                    }

                    OnSessionEnded(session);
                    CurrentServer = null;
                    ConnectionId = null;
                    Log.GrpcDisconnected(_logger, server.ToString(), session.ConnectionId, end.Reason);
                    SetState(NacosGrpcConnectionState.Disconnected, server.ToString(), session.ConnectionId, end.Reason);
                    preferred = end.Target;
                    if (end.KeepUntilReplaced)
                    {
                        previous = session;
                    }
                    else
                    {
                        await session.DisposeAsync().ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    if (session is not null)
                    {
                        OnSessionEnded(session);
                        await session.DisposeAsync().ConfigureAwait(false);
                    }

                    break;
                }
#pragma warning disable CA1031 // One failed attempt never ends the loop.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    if (session is not null)
                    {
                        OnSessionEnded(session);
                        await session.DisposeAsync().ConfigureAwait(false);
                    }

                    failures++;

                    // Connect failures are logged by Session.ConnectAsync; anything else here is a bug worth an error line.
                    if (ex is not NacosUnavailableException and not NacosProtocolException and not NacosGrpcException and not NacosAuthenticationException)
                    {
                        Log.GrpcLoopFailed(_logger, ex, "connect");
                    }

                    SetState(NacosGrpcConnectionState.Disconnected, null, null, ex.Message);
                    var passes = (failures - 1) / _servers.Count;
                    var delay = _settings.ReconnectDelay * Math.Min(passes + 1, 50);
                    try
                    {
                        await Task.Delay(delay, _time, stop).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }
            }
        }
        finally
        {
            if (previous is not null)
            {
                await previous.DisposeAsync().ConfigureAwait(false);
            }

            lock (_gate)
            {
                _ready.TrySetCanceled(stop);
            }
        }
    }

    /// <summary>Runs every redo step on a new connection, before it is open to other calls; returns the steps that failed.</summary>
    private async Task<List<Func<INacosGrpcRequester, CancellationToken, Task>>> RunRedoAsync(Session session, CancellationToken stop)
    {
        Func<INacosGrpcRequester, CancellationToken, Task>[] steps;
        lock (_redo)
        {
            steps = [.. _redo];
        }

        var failed = new List<Func<INacosGrpcRequester, CancellationToken, Task>>();
        var started = _time.GetTimestamp();
        foreach (var step in steps)
        {
            if (session.HasEnded)
            {
                return [];
            }

            try
            {
                await step(session, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                throw;
            }
#pragma warning disable CA1031 // A failed step is logged and retried while connected (RetryRedoAsync).
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.GrpcRedoFailed(_logger, ex, session.Server.ToString());
                failed.Add(step);
            }
        }

        Log.GrpcRedoDone(_logger, steps.Length, session.ConnectionId, (long)_time.GetElapsedTime(started).TotalMilliseconds);
        return failed;
    }

    /// <summary>
    /// Runs the failed redo steps again every <see cref="NacosGrpcSettings.RedoRetryDelay"/> until each succeeds, the
    /// connection ends (the next one redoes everything) or the step is removed: as the Java client's RedoScheduledTask
    /// (client/.../naming/remote/gprc/redo/RedoScheduledTask.java: every 3 s, only while connected), not only at the
    /// next connect. Never throws.
    /// </summary>
    private async Task RetryRedoAsync(Session session, List<Func<INacosGrpcRequester, CancellationToken, Task>> failed, CancellationToken sessionDone)
    {
        Log.GrpcRedoRetryScheduled(_logger, failed.Count, session.ConnectionId, session.Server.ToString(), _settings.RedoRetryDelay);
        while (failed.Count > 0)
        {
            try
            {
                await Task.Delay(_settings.RedoRetryDelay, _time, sessionDone).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            for (var i = 0; i < failed.Count && !session.HasEnded;)
            {
                var step = failed[i];
                bool registered;
                lock (_redo)
                {
                    registered = _redo.Contains(step);
                }

                if (!registered)
                {
                    failed.RemoveAt(i);
                    continue;
                }

                try
                {
                    await step(session, sessionDone).ConfigureAwait(false);
                    failed.RemoveAt(i);
                    Log.GrpcRedoRetried(_logger, session.ConnectionId);
                }
                catch (OperationCanceledException) when (sessionDone.IsCancellationRequested)
                {
                    return;
                }
#pragma warning disable CA1031 // Retried at the next tick, or redone in full by the next connection.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Log.GrpcRedoFailed(_logger, ex, session.Server.ToString());
                    i++;
                }
            }

            if (session.HasEnded)
            {
                return;
            }
        }
    }

    private NacosGrpcServer NextServer()
    {
        var server = _servers[_nextServer % _servers.Count];
        _nextServer = (_nextServer + 1) % _servers.Count;
        return server;
    }

    /// <summary>The configured server a ConnectResetRequest names (main port), or null (then the next one).</summary>
    private NacosGrpcServer? FindServer(string? ip, string? port)
    {
        if (string.IsNullOrEmpty(ip))
        {
            return null;
        }

        foreach (var server in _servers)
        {
            if (string.Equals(server.Host.Trim('[', ']'), ip.Trim('[', ']'), StringComparison.OrdinalIgnoreCase)
                && (string.IsNullOrEmpty(port) || port == server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            {
                return server;
            }
        }

        return null;
    }

    private bool TryGetPushHandler(Type type, out Func<NacosGrpcRequest, CancellationToken, ValueTask> handler)
    {
        lock (_pushHandlers)
        {
            return _pushHandlers.TryGetValue(type, out handler!);
        }
    }

    private void SetState(NacosGrpcConnectionState state, string? server, string? connectionId, string? reason)
    {
        State = state;
        var handlers = StateChanged;
        if (handlers is null)
        {
            return;
        }

        try
        {
            handlers(this, new NacosGrpcStateChangedEventArgs(state, server, connectionId, reason));
        }
#pragma warning disable CA1031 // A subscriber's bug must not stop the connection.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.GrpcStateHandlerFailed(_logger, ex);
        }
    }

    private sealed class Unsubscriber(Action dispose) : IDisposable
    {
        private Action? _dispose = dispose;

        public void Dispose() => Interlocked.Exchange(ref _dispose, null)?.Invoke();
    }

    /// <summary>Why a session ended; <see cref="Target"/> = the server a ConnectResetRequest named.</summary>
    private sealed record SessionEnd(string Reason, NacosGrpcServer? Target = null, bool KeepUntilReplaced = false);
}
