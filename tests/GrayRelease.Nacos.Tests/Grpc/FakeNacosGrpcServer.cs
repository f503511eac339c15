using System.Collections.Concurrent;
using System.Net;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using GrayRelease.Nacos.Grpc;
using GrayRelease.Nacos.Grpc.Protocol;
using GrayRelease.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NacosMetadata = GrayRelease.Nacos.Grpc.Protocol.Metadata;

namespace GrayRelease.Nacos.Tests.Grpc;

/// <summary>
/// A small Nacos gRPC server for the transport tests: Kestrel h2c on 127.0.0.1 port 0, answers from the fixtures,
/// records what it receives, and can push, end streams and send ConnectResetRequest. Not a Nacos emulator: no store.
/// </summary>
internal sealed class FakeNacosGrpcServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, FakeStream> _streams = new();
    private readonly ConcurrentDictionary<string, bool> _registered = new();
    private int _connectionCounter;
    private int _pushCounter = 1000;

    private FakeNacosGrpcServer(WebApplication app) => _app = app;

    public int GrpcPort { get; private set; }

    /// <summary>The "HTTP" address whose port + 1000 is this server's gRPC port.</summary>
    public string ServerAddress => $"http://127.0.0.1:{GrpcPort - NacosGrpcServer.PortOffset}";

    /// <summary>Every unary request received, in order, with the Kestrel connection it came on.</summary>
    public ConcurrentQueue<Received> Requests { get; } = new();

    /// <summary>Every message the clients wrote on their streams (setup, answers), in order.</summary>
    public ConcurrentQueue<Received> StreamMessages { get; } = new();

    /// <summary>Overrides the answer to a unary request; return null for the default (fixture) answer.</summary>
    public Func<Received, NacosGrpcResponse?>? Respond { get; set; }

    /// <summary>Awaited before a unary request is answered (to hold an answer back); null = answer at once.</summary>
    public Func<Received, CancellationToken, Task>? BeforeAnswer { get; set; }

    /// <summary>Whether SetupAck is sent (2.3+ servers) and ServerCheck says so.</summary>
    public bool SupportAbilityNegotiation { get; set; } = true;

    /// <summary>False: registers the setup but never acks it (a server that lost the connection meanwhile).</summary>
    public bool SendSetupAck { get; set; } = true;

    public IEnumerable<FakeStream> Streams => _streams.Values;

    public static async Task<FakeNacosGrpcServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = 10 * 1024 * 1024);
        FakeNacosGrpcServer? server = null;
        builder.Services.AddSingleton(_ => server!);
        var app = builder.Build();
        server = new FakeNacosGrpcServer(app);
        app.MapGrpcService<FakeNacosService>();
        await app.StartAsync();
        server.GrpcPort = new Uri(app.Urls.First()).Port;
        return server;
    }

    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync();
        }
        catch (OperationCanceledException)
        {
        }

        await _app.DisposeAsync();
    }

    public async Task<FakeStream> WaitForStreamAsync(Func<FakeStream, bool>? predicate = null)
    {
        FakeStream? found = null;
        await Eventually.WaitUntilAsync(
            () => (found = _streams.Values.FirstOrDefault(s => s.SetupDone && !s.Closed.Task.IsCompleted && (predicate is null || predicate(s)))) is not null,
            "a client set up a stream");
        return found!;
    }

    internal string NextPushId() => Interlocked.Increment(ref _pushCounter).ToString(System.Globalization.CultureInfo.InvariantCulture);

    internal async Task<Payload> HandleUnaryAsync(Payload payload, ServerCallContext context)
    {
        var connection = context.GetHttpContext().Connection.Id;
        object message;
        try
        {
            message = NacosGrpcCodec.Decode(payload);
        }
        catch (Exception ex)
        {
            return NacosGrpcCodec.Encode(new ErrorResponse { ResultCode = 500, ErrorCode = 502, Message = ex.Message });
        }

        var received = new Received(connection, message, new Dictionary<string, string>(payload.Metadata.Headers), payload.Metadata.ClientIp);
        Requests.Enqueue(received);
        if (BeforeAnswer is { } hold)
        {
            await hold(received, context.CancellationToken);
        }

        if (message is ServerCheckRequest)
        {
            var id = $"{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}_127.0.0.1_{Interlocked.Increment(ref _connectionCounter)}";
            _registered.TryAdd(connection, false);
            return NacosGrpcCodec.Encode(new ServerCheckResponse { ConnectionId = id + "@" + connection, SupportAbilityNegotiation = SupportAbilityNegotiation });
        }

        var custom = Respond?.Invoke(received);
        if (custom is not null)
        {
            return NacosGrpcCodec.Encode(custom);
        }

        // core/.../grpc/GrpcRequestAcceptor.java: known types before the setup → 301.
        if (message is not HealthCheckRequest && !(_registered.TryGetValue(connection, out var registered) && registered))
        {
            return NacosGrpcCodec.Encode(new ErrorResponse { ResultCode = 500, ErrorCode = 301, Message = "Connection is unregistered." });
        }

        await Task.Yield();
        return NacosGrpcCodec.Encode(DefaultAnswer(message));
    }

    internal async Task HandleStreamAsync(IAsyncStreamReader<Payload> requests, IServerStreamWriter<Payload> responses, ServerCallContext context)
    {
        var http = context.GetHttpContext();
        var stream = new FakeStream(this, http.Connection.Id, responses, http);
        _streams[stream.Key] = stream;
        var stopping = _app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, stopping, stream.Abort.Token);
        try
        {
            while (await requests.MoveNext(linked.Token))
            {
                var payload = requests.Current;
                object message;
                try
                {
                    message = NacosGrpcCodec.Decode(payload);
                }
                catch (Exception)
                {
                    continue;
                }

                StreamMessages.Enqueue(new Received(stream.Connection, message, new Dictionary<string, string>(payload.Metadata.Headers), payload.Metadata.ClientIp));
                if (message is ConnectionSetupRequest setup)
                {
                    stream.Setup = setup;
                    stream.SetupClientIp = payload.Metadata.ClientIp;
                    _registered[stream.Connection] = true;
                    stream.SetupDone = true;
                    if (setup.AbilityTable is not null && SupportAbilityNegotiation && SendSetupAck)
                    {
                        var ack = (SetupAckRequest)NacosGrpcCodec.Decode(Fixture("SetupAckRequest"));
                        await stream.WriteAsync(NacosGrpcCodec.Encode(ack));
                    }
                }
                else if (message is NacosGrpcResponse response && response.RequestId is { } id && stream.Pending.TryRemove(id, out var waiter))
                {
                    waiter.TrySetResult(response);
                }
            }

            stream.Closed.TrySetResult("completed");
        }
        catch (OperationCanceledException)
        {
            stream.Closed.TrySetResult("cancelled");
            if (stream.Abort.IsCancellationRequested)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, "dropped by the test"));
            }
        }
        catch (Exception ex)
        {
            stream.Closed.TrySetResult("failed: " + ex.GetType().Name);
        }
        finally
        {
            _registered.TryRemove(stream.Connection, out _);
        }
    }

    /// <summary>The fixture answer to a request (type name XRequest → XResponse, Nacos's few irregular names mapped).</summary>
    private static NacosGrpcResponse DefaultAnswer(object request)
    {
        var name = request.GetType().Name switch
        {
            "ServiceQueryRequest" => "QueryServiceResponse",
            "ConfigBatchListenRequest" => "ConfigChangeBatchListenResponse",
            "PersistentInstanceRequest" => "InstanceResponse",
            var other => other.Replace("Request", "Response", StringComparison.Ordinal),
        };
        if (request is InstanceRequest { Type: InstanceRequest.Deregister })
        {
            name = "InstanceResponse.deregister";
        }

        return (NacosGrpcResponse)NacosGrpcCodec.Decode(Fixture(name));
    }

    /// <summary>A fixture as the envelope Nacos would send (type = file name up to the first dot).</summary>
    public static Payload Fixture(string name)
    {
        var json = Fixtures.Read("grpc/" + name + ".json");
        return new Payload
        {
            Metadata = new NacosMetadata { Type = name.Split('.')[0] },
            Body = new Google.Protobuf.WellKnownTypes.Any { Value = Google.Protobuf.ByteString.CopyFromUtf8(json) },
        };
    }

    internal sealed record Received(string Connection, object Message, Dictionary<string, string> Headers, string ClientIp);

    /// <summary>One client's bi-stream: push server requests, await their answers, end it.</summary>
#pragma warning disable CA1001 // Lives as long as the test server.
    internal sealed class FakeStream(FakeNacosGrpcServer server, string connection, IServerStreamWriter<Payload> writer, Microsoft.AspNetCore.Http.HttpContext http)
    {
        private readonly SemaphoreSlim _writeLock = new(1, 1);

        public string Key { get; } = connection + "/" + Guid.NewGuid().ToString("N");

        public string Connection { get; } = connection;

        public ConnectionSetupRequest? Setup { get; set; }

        public string? SetupClientIp { get; set; }

        public volatile bool SetupDone;

        public TaskCompletionSource<string> Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenSource Abort { get; } = new();

        public ConcurrentDictionary<string, TaskCompletionSource<NacosGrpcResponse>> Pending { get; } = new();

        public async Task WriteAsync(Payload payload)
        {
            await _writeLock.WaitAsync();
            try
            {
                await writer.WriteAsync(payload);
            }
            finally
            {
                _writeLock.Release();
            }
        }

        /// <summary>Sends a server request with a fresh decimal requestId and returns the client's answer.</summary>
        public async Task<NacosGrpcResponse> PushAsync(NacosGrpcRequest request)
        {
            var id = server.NextPushId();
            var answer = new TaskCompletionSource<NacosGrpcResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
            Pending[id] = answer;
            await WriteAsync(NacosGrpcCodec.Encode(request with { RequestId = id }));
            return await TestSupport.WithTimeout(answer.Task, "the answer to " + request.GetType().Name + " " + id);
        }

        /// <summary>Ends the stream with an error and closes the socket, as a cut connection looks to the client.</summary>
        public void Drop()
        {
            Abort.Cancel();
            http.Abort();
        }
    }
#pragma warning restore CA1001
}

/// <summary>
/// Binds /Request/request and /BiRequestStream/requestBiStream by hand: Grpc.AspNetCore finds a public virtual
/// method named like the rpc (here the lower-case Nacos names) on the type that declares the bind method.
/// </summary>
[BindServiceMethod(typeof(FakeNacosService), nameof(BindService))]
#pragma warning disable CA1852 // Not sealed: the binding wants virtual methods declared on this type.
internal class FakeNacosService(FakeNacosGrpcServer server)
{
    public static void BindService(ServiceBinderBase binder, FakeNacosService? service)
    {
        binder.AddMethod(NacosGrpcMethods.Request, (UnaryServerMethod<Payload, Payload>?)null);
        binder.AddMethod(NacosGrpcMethods.RequestBiStream, (DuplexStreamingServerMethod<Payload, Payload>?)null);
    }

#pragma warning disable IDE1006, CA1822 // Named like the Nacos rpc methods, which the binding looks up by name.
    public virtual Task<Payload> request(Payload payload, ServerCallContext context) => server.HandleUnaryAsync(payload, context);

    public virtual Task requestBiStream(IAsyncStreamReader<Payload> requests, IServerStreamWriter<Payload> responses, ServerCallContext context) =>
        server.HandleStreamAsync(requests, responses, context);
#pragma warning restore IDE1006, CA1822
}
#pragma warning restore CA1852
