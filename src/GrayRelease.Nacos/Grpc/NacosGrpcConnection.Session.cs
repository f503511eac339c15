using Grpc.Core;
using Grpc.Net.Client;
using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Grpc.Protocol;
using GrayRelease.Nacos.Http;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Grpc;

internal sealed partial class NacosGrpcConnection
{
    /// <summary>
    /// One Nacos connection = one HTTP/2 (TCP) connection: the server names the connection after the socket and
    /// attributes unary calls by socket (core/.../remote/grpc/AddressTransportFilter.java, GrpcConnectionInterceptor.java),
    /// so the channel never opens a second HTTP/2 connection, and a new session gets a new channel.
    /// </summary>
    private sealed class Session : INacosGrpcRequester, IAsyncDisposable
    {
        private static readonly Dictionary<string, string> NoHeaders = [];

        private readonly NacosGrpcConnection _owner;
        private readonly GrpcChannel _channel;
        private readonly CallInvoker _invoker;
        private readonly CancellationTokenSource _cts = new();
        private readonly SemaphoreSlim _writeLock = new(1, 1);
        private readonly TaskCompletionSource<SessionEnd> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _setupAck = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private AsyncDuplexStreamingCall<Payload, Payload>? _stream;
        private Task _readLoop = Task.CompletedTask;
        private Task _healthLoop = Task.CompletedTask;
        private long _lastActive;
        private int _disposed;

        private Session(NacosGrpcConnection owner, NacosGrpcServer server)
        {
            _owner = owner;
            Server = server;
            _channel = CreateChannel(server, owner._settings);
            _invoker = _channel.CreateCallInvoker();
            Touch();
        }

        public NacosGrpcServer Server { get; }

        public string ConnectionId { get; private set; } = string.Empty;

        public Task<SessionEnd> Ended => _ended.Task;

        public bool HasEnded => _ended.Task.IsCompleted;

        private ILogger Logger => _owner._logger;

        /// <summary>ServerCheck → bi-stream → ConnectionSetupRequest → SetupAck (common/.../grpc/GrpcClient.java connectToServer).</summary>
        public static async Task<Session> ConnectAsync(NacosGrpcConnection owner, NacosGrpcServer server, CancellationToken stop)
        {
            var session = new Session(owner, server);
            try
            {
                await session.ConnectCoreAsync(stop).ConfigureAwait(false);
                return session;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                await session.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            catch (Exception ex)
            {
                Log.GrpcConnectFailed(owner._logger, server.ToString(), ex.Message);
                await session.DisposeAsync().ConfigureAwait(false);
                if (ex is NacosException)
                {
                    throw;
                }

                throw new NacosUnavailableException($"Could not connect to Nacos at {server}: {ex.Message}", ex);
            }
        }

        /// <summary>
        /// For the redo steps: straight on this connection, which is not yet open to other callers, within the request
        /// timeout (the supervisor waits for the steps, so none may hang).
        /// </summary>
        public async Task<TResponse> RequestAsync<TResponse>(NacosGrpcRequest request, CancellationToken cancellationToken)
            where TResponse : NacosGrpcResponse
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _cts.Token);
            timeout.CancelAfter(_owner._settings.RequestTimeout);
            try
            {
                return await SendAsync<TResponse>(request, withToken: true, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new NacosUnavailableException($"Nacos at {Server} did not answer {NacosGrpcCodec.TypeName(request)} within {_owner._settings.RequestTimeout.TotalMilliseconds:0} ms.");
            }
        }

        /// <summary>
        /// One unary call on this connection; see <see cref="NacosGrpcConnection.RequestAsync{TResponse}(NacosGrpcRequest, TimeSpan, CancellationToken)"/>.
        /// An answer with errorCode 403 to a call that carried a token logs in again and sends the call once more: the
        /// server answers an expired or unknown token (restarted with a new secret) and a missing permission alike
        /// (core/.../remote/grpc/... RemoteRequestAuthFilter.java), and the Java client re-logs in on it
        /// (client/.../naming/remote/gprc/NamingGrpcClientProxy.java requestToServer, client/.../config/impl/ClientWorker.java
        /// queryConfig: <c>securityProxy.reLogin()</c>). A 403 again, or with a token a re-login just gave, is a permission error.
        /// </summary>
        public async Task<TResponse> SendAsync<TResponse>(NacosGrpcRequest request, bool withToken, CancellationToken cancellationToken)
            where TResponse : NacosGrpcResponse
        {
            string? token = null;
            if (withToken && _owner._accessToken is not null)
            {
                token = await _owner._accessToken(cancellationToken).ConfigureAwait(false);
            }

            var typed = await SendOnceAsync<TResponse>(request, token, cancellationToken).ConfigureAwait(false);
            if (typed.ErrorCode != NacosGrpcErrorCodes.NoRight)
            {
                return typed;
            }

            if (!string.IsNullOrEmpty(token) && _owner._relogin is not null
                && await _owner._relogin(token, cancellationToken).ConfigureAwait(false) is { Length: > 0 } fresh)
            {
                typed = await SendOnceAsync<TResponse>(request, fresh, cancellationToken).ConfigureAwait(false);
                if (typed.ErrorCode != NacosGrpcErrorCodes.NoRight)
                {
                    return typed;
                }
            }

            var typeName = NacosGrpcCodec.TypeName(request);
            if (!string.IsNullOrEmpty(token))
            {
                Log.GrpcPermissionDenied(_owner._logger, Server.ToString(), typeName);
                throw new NacosAuthenticationException(
                    $"Nacos at {Server} refused {typeName} with errorCode 403 although the login is valid and fresh: the user lacks the permission for this resource "
                    + $"({NacosGrpcCodec.Shorten(typed.Message)}). Give the user's role read (and, to register or publish, write) permission on the namespace in the Nacos console, or use another nacos:UserName.",
                    new NacosGrpcException(typeName, typed.ResultCode, typed.ErrorCode, typed.Message))
                {
                    StatusCode = 403,
                };
            }

            // No token at all: the server has auth on and nacos:UserName is not set.
            throw new NacosAuthenticationException(
                $"Nacos at {Server} refused {typeName}: {NacosGrpcCodec.Shorten(typed.Message)} (auth is on at the server: set nacos:UserName and nacos:Password)",
                new NacosGrpcException(typeName, typed.ResultCode, typed.ErrorCode, typed.Message))
            {
                StatusCode = 403,
            };
        }

        /// <summary>One unary call on this connection (no retry), with <paramref name="token"/> when not null.</summary>
        private async Task<TResponse> SendOnceAsync<TResponse>(NacosGrpcRequest request, string? token, CancellationToken cancellationToken)
            where TResponse : NacosGrpcResponse
        {
            var typeName = NacosGrpcCodec.TypeName(request);
            var headers = NoHeaders;
            if (!string.IsNullOrEmpty(token))
            {
                // GrpcIdentityContextBuilder reads the accessToken header (auth/.../context/GrpcIdentityContextBuilder.java).
                headers = new Dictionary<string, string>(StringComparer.Ordinal) { ["accessToken"] = token };
            }

            var payload = NacosGrpcCodec.Encode(request, headers, _owner._settings.ClientIp);
            Payload answer;
            try
            {
                answer = await _invoker.AsyncUnaryCall(NacosGrpcMethods.Request, null, new CallOptions(cancellationToken: cancellationToken), payload)
                    .ResponseAsync.ConfigureAwait(false);
            }
            catch (RpcException ex) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException($"{typeName} to Nacos at {Server} was cancelled.", ex, cancellationToken);
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.ResourceExhausted or StatusCode.Unimplemented or StatusCode.InvalidArgument)
            {
                // This call's fault (e.g. an answer over 10 MiB), not the connection's: no reconnect.
                throw new NacosProtocolException($"Nacos at {Server} refused {typeName} at the gRPC level: {ex.StatusCode} {ex.Status.Detail}", ex);
            }
            catch (RpcException ex)
            {
                // Transport failure: this connection is no use any more; the supervisor connects again.
                End($"{typeName} failed: {ex.StatusCode}");
                throw new NacosUnavailableException($"Nacos at {Server} did not answer {typeName}: {ex.StatusCode} {ex.Status.Detail}", ex);
            }
            catch (ObjectDisposedException ex) when (Volatile.Read(ref _disposed) != 0)
            {
                // The supervisor closed this connection while the call was starting: the caller retries on the next one.
                throw new NacosUnavailableException($"The connection to Nacos at {Server} closed during {typeName}.", ex);
            }

            var message = NacosGrpcCodec.Decode(answer);
            Touch();
            if (message is ErrorResponse error)
            {
                throw MapError(typeName, error);
            }

            if (message is not TResponse typed)
            {
                throw new NacosProtocolException($"Nacos at {Server} answered {typeName} with {NacosGrpcCodec.TypeName(message)}, not {typeof(TResponse).Name}.");
            }

            // A 403 (the auth filter answers in the handler's type, core/.../auth/RemoteRequestAuthFilter.java) is
            // returned for SendAsync to log in again.
            return typed;
        }

        /// <summary>Writes one message on the stream; writes are serialized (a gRPC stream writer allows one at a time).</summary>
        public async Task WriteAsync(Payload payload, CancellationToken cancellationToken)
        {
            var stream = _stream ?? throw new InvalidOperationException("The stream is not open.");
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _cts.Token);
            await _writeLock.WaitAsync(linked.Token).ConfigureAwait(false);
            try
            {
                await stream.RequestStream.WriteAsync(payload, linked.Token).ConfigureAwait(false);
            }
            finally
            {
                _writeLock.Release();
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            End("closed by the client");
            if (_stream is not null)
            {
                // Graceful close: half-close the stream so that the server sees a clean end, then drop the socket.
                try
                {
                    using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                    if (await _writeLock.WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false))
                    {
                        try
                        {
                            await _stream.RequestStream.CompleteAsync().WaitAsync(grace.Token).ConfigureAwait(false);
                        }
                        finally
                        {
                            _writeLock.Release();
                        }

                        // The server ends its side when it reads our end; cancelling before that would reset the stream.
                        await _readLoop.WaitAsync(grace.Token).ConfigureAwait(false);
                    }
                }
#pragma warning disable CA1031 // Closing a broken stream may fail in many ways; closing goes on.
                catch (Exception)
#pragma warning restore CA1031
                {
                }
            }

            await _cts.CancelAsync().ConfigureAwait(false);
            await AwaitQuietly(_readLoop).ConfigureAwait(false);
            await AwaitQuietly(_healthLoop).ConfigureAwait(false);
            _stream?.Dispose();
            _channel.Dispose();
            _cts.Dispose();
            Log.GrpcClosed(Logger, Server.ToString(), ConnectionId);
        }

        private static async Task AwaitQuietly(Task task)
        {
            try
            {
                await task.ConfigureAwait(false);
            }
#pragma warning disable CA1031 // The loops catch everything themselves; disposal never rethrows.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }

        private async Task ConnectCoreAsync(CancellationToken stop)
        {
            var settings = _owner._settings;
            ServerCheckResponse check;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop))
            {
                timeout.CancelAfter(settings.ServerCheckTimeout);
                try
                {
                    // ServerCheck and HealthCheck are not secured: no token (PROTOCOL-GRPC.md §7).
                    check = await SendAsync<ServerCheckResponse>(new ServerCheckRequest(), withToken: false, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    throw new NacosUnavailableException($"Nacos at {Server} did not answer ServerCheck within {settings.ServerCheckTimeout.TotalMilliseconds:0} ms.");
                }
            }

            ConnectionId = check.ConnectionId ?? string.Empty;
            _stream = _invoker.AsyncDuplexStreamingCall(NacosGrpcMethods.RequestBiStream, null, new CallOptions(cancellationToken: _cts.Token));
            using (ExecutionContext.SuppressFlow())
            {
                _readLoop = Task.Run(ReadLoopAsync, CancellationToken.None);
            }

            var setup = new ConnectionSetupRequest
            {
                ClientVersion = settings.ClientVersion,
                Tenant = _owner.Tenant,

                // One connection for naming and config: the naming module requires module=naming
                // (naming/.../ConnectionBasedClientManager.java); the config module does not read the label.
                Labels = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["source"] = "sdk",
                    ["module"] = settings.Module,
                    ["AppName"] = settings.AppName,
                },

                // Not null, so a 2.3+ server acks; empty, as we use none of fuzzyWatch/lock/mcp.
                AbilityTable = [],
            };
            await WriteAsync(NacosGrpcCodec.Encode(setup, clientIp: settings.ClientIp), stop).ConfigureAwait(false);

            if (check.SupportAbilityNegotiation)
            {
                // SetupAck = the server registered the connection (core/.../grpc/GrpcBiStreamRequestAcceptor.java).
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
                timeout.CancelAfter(settings.SetupAckTimeout);
                Task first;
                try
                {
                    first = await Task.WhenAny(_setupAck.Task, _ended.Task).WaitAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    // Java drops such a connection too: the server did not register it (GrpcClient.connectToServer).
                    throw new NacosUnavailableException($"Nacos at {Server} sent no SetupAck within {settings.SetupAckTimeout.TotalMilliseconds:0} ms.");
                }

                if (first != _setupAck.Task || _ended.Task.IsCompleted)
                {
                    throw new NacosUnavailableException($"Nacos at {Server} closed the stream during the setup: {(_ended.Task.IsCompleted ? _ended.Task.Result.Reason : "?")}");
                }
            }
            else
            {
                // 2.0-2.2 send no ack; Java waits 100 ms for the registration (GrpcClient).
                await Task.Delay(TimeSpan.FromMilliseconds(100), _owner._time, stop).ConfigureAwait(false);
                if (_ended.Task.IsCompleted)
                {
                    throw new NacosUnavailableException($"Nacos at {Server} closed the stream during the setup: {_ended.Task.Result.Reason}");
                }
            }

            using (ExecutionContext.SuppressFlow())
            {
                _healthLoop = Task.Run(HealthLoopAsync, CancellationToken.None);
            }
        }

        private void End(string reason, NacosGrpcServer? target = null, bool keepUntilReplaced = false)
        {
            if (_ended.TrySetResult(new SessionEnd(reason, target, keepUntilReplaced)))
            {
                _owner.OnSessionEnded(this);
            }
        }

        private void Touch() => Interlocked.Exchange(ref _lastActive, _owner._time.GetTimestamp());

        private async Task ReadLoopAsync()
        {
            using var running = NacosMetrics.LoopRunning("grpc.read");
            var token = _cts.Token;
            try
            {
                var responses = _stream!.ResponseStream;
                while (await responses.MoveNext(token).ConfigureAwait(false))
                {
                    Touch();
                    try
                    {
                        await HandleAsync(responses.Current, token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (token.IsCancellationRequested)
                    {
                        throw;
                    }
#pragma warning disable CA1031 // One bad message never kills the stream.
                    catch (Exception ex)
#pragma warning restore CA1031
                    {
                        Log.GrpcLoopFailed(Logger, ex, "stream read");
                    }
                }

                End("the server closed the stream");
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                End("closed by the client");
            }
            catch (RpcException ex) when (token.IsCancellationRequested)
            {
                End("closed by the client: " + ex.StatusCode);
            }
#pragma warning disable CA1031 // The stream's end is reported to the supervisor, which reconnects.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                End(ex is RpcException rpc ? $"stream failed: {rpc.StatusCode} {rpc.Status.Detail}" : "stream failed: " + ex.Message);
            }
        }

        private async Task HandleAsync(Payload payload, CancellationToken cancellationToken)
        {
            object message;
            try
            {
                message = NacosGrpcCodec.Decode(payload);
            }
            catch (NacosProtocolException ex)
            {
                // Unknown type or bad body: dropped and logged, as the server does on its side (GrpcBiStreamRequestAcceptor).
                Log.GrpcBadServerMessage(Logger, Server.ToString(), ex.Message);
                return;
            }

            switch (message)
            {
                case SetupAckRequest:
                    // Never answered: the server expects nothing (RpcAckCallbackSynchronizer only logs an answer without requestId).
                    _setupAck.TrySetResult();
                    return;
                case ClientDetectionRequest detection:
                    await AnswerAsync(detection, cancellationToken).ConfigureAwait(false);
                    return;
                case ConnectResetRequest reset:
                    await AnswerAsync(reset, cancellationToken).ConfigureAwait(false);
                    var target = _owner.FindServer(reset.ServerIp, reset.ServerPort);
                    Log.GrpcConnectReset(Logger, Server.ToString(), target?.ToString() ?? "the next in the list");
                    End("ConnectResetRequest", target, keepUntilReplaced: true);
                    return;
                case NacosGrpcRequest request when _owner.TryGetPushHandler(request.GetType(), out var handler):
                    await HandlePushAsync(request, handler, cancellationToken).ConfigureAwait(false);
                    return;
                case NacosGrpcRequest request:
                    // Java answers nothing to requests it cannot handle (RpcClient.handleServerRequest).
                    Log.GrpcUnhandledServerRequest(Logger, NacosGrpcCodec.TypeName(request), Server.ToString());
                    return;
                default:
                    Log.GrpcBadServerMessage(Logger, Server.ToString(), "unexpected " + NacosGrpcCodec.TypeName(message) + " on the stream");
                    return;
            }
        }

        private async Task HandlePushAsync(NacosGrpcRequest request, Func<NacosGrpcRequest, CancellationToken, ValueTask> handler, CancellationToken cancellationToken)
        {
            try
            {
                await handler(request, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
#pragma warning disable CA1031 // A handler's failure is answered as an error (the server retries the push) and logged.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.GrpcPushHandlerFailed(Logger, ex, NacosGrpcCodec.TypeName(request), NacosGrpcCodec.Shorten(request.RequestId));
                var error = new ErrorResponse
                {
                    ResultCode = NacosGrpcErrorCodes.ClientError,
                    ErrorCode = NacosGrpcErrorCodes.ClientError,
                    Message = "handler failed",
                    RequestId = request.RequestId,
                };
                await WriteAsync(NacosGrpcCodec.Encode(error), cancellationToken).ConfigureAwait(false);
                return;
            }

            await AnswerAsync(request, cancellationToken).ConfigureAwait(false);
        }

        private Task AnswerAsync(NacosGrpcRequest request, CancellationToken cancellationToken)
        {
            var answer = NacosGrpcCodec.AnswerFor(request);
            return answer is null ? Task.CompletedTask : WriteAsync(NacosGrpcCodec.Encode(answer), cancellationToken);
        }

        /// <summary>
        /// After <see cref="NacosGrpcSettings.HealthCheckIdle"/> without a successful call, HealthCheckRequest; every try
        /// failing, or a non-success answer such as 301, ends the session (common/.../remote/client/RpcClient.java).
        /// </summary>
        private async Task HealthLoopAsync()
        {
            using var running = NacosMetrics.LoopRunning("grpc.health");
            var token = _cts.Token;
            var settings = _owner._settings;
            while (!token.IsCancellationRequested && !HasEnded)
            {
                try
                {
                    var idle = _owner._time.GetElapsedTime(Interlocked.Read(ref _lastActive));
                    if (idle < settings.HealthCheckIdle)
                    {
                        await Task.Delay(settings.HealthCheckIdle - idle, _owner._time, token).ConfigureAwait(false);
                        continue;
                    }

                    string? failure = null;
                    for (var attempt = 0; attempt < settings.HealthCheckTries; attempt++)
                    {
                        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
                        timeout.CancelAfter(settings.HealthCheckTimeout);
                        try
                        {
                            var answer = await SendAsync<HealthCheckResponse>(new HealthCheckRequest(), withToken: false, timeout.Token).ConfigureAwait(false);

                            // "not only check server is ok, also check connection is register" (RpcClient.healthCheck): no retry.
                            failure = answer.Success ? null : $"resultCode {answer.ResultCode}, errorCode {answer.ErrorCode}";
                            break;
                        }
                        catch (OperationCanceledException) when (!token.IsCancellationRequested)
                        {
                            failure = "no answer within " + settings.HealthCheckTimeout;
                        }
                        catch (NacosException ex)
                        {
                            failure = ex.Message;
                            if (HasEnded || ex is NacosGrpcException)
                            {
                                break;
                            }
                        }
                    }

                    if (failure is not null)
                    {
                        Log.GrpcHealthCheckFailed(Logger, Server.ToString(), ConnectionId, failure);
                        End("health check failed: " + failure);
                        return;
                    }
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    return;
                }
#pragma warning disable CA1031 // The health loop logs and goes on.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Log.GrpcLoopFailed(Logger, ex, "health check");
                    try
                    {
                        await Task.Delay(settings.HealthCheckIdle, _owner._time, token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }
        }

        private Exception MapError(string typeName, ErrorResponse error)
        {
            var inner = new NacosGrpcException(typeName, error.ResultCode, error.ErrorCode, error.Message);
            switch (error.ErrorCode)
            {
                case NacosGrpcErrorCodes.Unregistered:
                    // The server forgot this connection (GrpcRequestAcceptor): reconnect and redo (RpcClient does the same).
                    End("the server answered 301 (connection unregistered)");
                    return new NacosUnavailableException($"Nacos at {Server} no longer knows this connection ({typeName}).", inner);
                case NacosGrpcErrorCodes.ServerStarting:
                    return new NacosUnavailableException($"Nacos at {Server} is starting ({typeName}).", inner);
                case NacosGrpcErrorCodes.NoRight:
                    return new NacosAuthenticationException($"Nacos at {Server} refused {typeName}: {NacosGrpcCodec.Shorten(error.Message)}", inner);
                default:
                    return inner;
            }
        }
    }
}
