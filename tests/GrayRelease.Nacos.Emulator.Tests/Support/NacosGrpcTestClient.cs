using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using GrayRelease.Nacos.Emulator.Grpc.Protocol;
using GrayRelease.Testing;

namespace GrayRelease.Nacos.Emulator.Tests.Support;

/// <summary>
/// A minimal Nacos gRPC client for the tests: one channel (one TCP connection), the two methods by path, JSON bodies
/// in <c>Any.value</c> with an empty type_url, and a stream reader that records every server request and (by default)
/// answers it with the same requestId, as the Java client does.
/// </summary>
internal sealed class NacosGrpcTestClient : IAsyncDisposable
{
    private static readonly Marshaller<Payload> PayloadMarshaller = Marshallers.Create(p => p.ToByteArray(), Payload.Parser.ParseFrom);
    private static readonly Method<Payload, Payload> UnaryMethod = new(MethodType.Unary, "Request", "request", PayloadMarshaller, PayloadMarshaller);
    private static readonly Method<Payload, Payload> StreamMethod = new(MethodType.DuplexStreaming, "BiRequestStream", "requestBiStream", PayloadMarshaller, PayloadMarshaller);

    private readonly GrpcChannel _channel;
    private readonly CallInvoker _invoker;
    private readonly ConcurrentQueue<Message> _received = new();
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private AsyncDuplexStreamingCall<Payload, Payload>? _stream;
    private Task _reader = Task.CompletedTask;

    private NacosGrpcTestClient(string address)
    {
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            // A Nacos connection is a TCP connection: unary calls must share the stream's socket.
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = false },
            DisposeHttpClient = true,
        });
        _invoker = _channel.CreateCallInvoker();
    }

    /// <summary>Answer server requests (NotifySubscriber, ConfigChangeNotify, ClientDetection, ConnectReset) with success.</summary>
    public bool AutoAnswer { get; set; } = true;

    public static NacosGrpcTestClient Create(string address) => new(address);

    /// <summary>ServerCheck, then the stream with a ConnectionSetupRequest; waits for the SetupAck when abilities are sent.</summary>
    public static async Task<NacosGrpcTestClient> ConnectAsync(string address, string module, CancellationToken cancellationToken, bool sendAbilities = true)
    {
        var client = new NacosGrpcTestClient(address);
        var check = await client.CallAsync("ServerCheckRequest", "{\"headers\":{},\"module\":\"internal\"}", cancellationToken: cancellationToken);
        Assert.Equal("ServerCheckResponse", check.Type);
        client.ConnectionId = check.Body.GetProperty("connectionId").GetString();
        await client.OpenStreamAsync(module, sendAbilities, cancellationToken);
        if (sendAbilities)
        {
            await client.WaitForAsync("SetupAckRequest", cancellationToken);
        }
        else
        {
            // Without SetupAck there is nothing to wait on: health checks until the server says the connection is registered.
            await Eventually.WaitUntilAsync(
                async () => (await client.CallAsync("HealthCheckRequest", "{\"headers\":{},\"module\":\"internal\"}", cancellationToken: cancellationToken)).Type == "HealthCheckResponse",
                "the server answers a health check on the registered connection",
                cancellationToken: cancellationToken);
        }

        return client;
    }

    public string? ConnectionId { get; private set; }

    public async Task OpenStreamAsync(string module, bool sendAbilities, CancellationToken cancellationToken)
    {
        _stream = _invoker.AsyncDuplexStreamingCall(StreamMethod, null, new CallOptions(cancellationToken: CancellationToken.None));
        using (ExecutionContext.SuppressFlow())
        {
            _reader = Task.Run(ReadAsync, CancellationToken.None);
        }

        var abilities = sendAbilities ? ",\"abilityTable\":{\"fuzzyWatch\":true,\"lock\":true,\"mcp\":true}" : string.Empty;
        var setup = "{\"headers\":{},\"clientVersion\":\"Nacos-Java-Client:v3.1.0\",\"labels\":{\"module\":\"" + module
            + "\",\"source\":\"sdk\",\"AppName\":\"unknown\"}" + abilities + ",\"module\":\"internal\"}";
        await WriteAsync("ConnectionSetupRequest", setup, "127.0.0.1", cancellationToken);
    }

    public async Task<(string Type, JsonElement Body)> CallAsync(string type, string json, IDictionary<string, string>? headers = null, CancellationToken cancellationToken = default)
    {
        var payload = Build(type, json, "127.0.0.1");
        if (headers is not null)
        {
            foreach (var (key, value) in headers)
            {
                payload.Metadata.Headers[key] = value;
            }
        }

        var answer = await _invoker.AsyncUnaryCall(UnaryMethod, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20), cancellationToken: cancellationToken), payload);
        using var document = JsonDocument.Parse(answer.Body.Value.Memory);
        return (answer.Metadata.Type, document.RootElement.Clone());
    }

    /// <summary>The next server request of this type (earlier ones of other types stay recorded).</summary>
    public async Task<JsonElement> WaitForAsync(string type, CancellationToken cancellationToken, Func<JsonElement, bool>? match = null)
    {
        while (true)
        {
            foreach (var item in _received)
            {
                if (!item.Taken && item.Type == type && (match is null || match(item.Body)))
                {
                    item.Taken = true;
                    return item.Body;
                }
            }

            await _arrived.WaitAsync(cancellationToken);
        }
    }

    public IReadOnlyList<(string Type, JsonElement Body)> Received => [.. _received.Select(r => (r.Type, r.Body))];

    public Task AnswerAsync(string responseType, string requestId, CancellationToken cancellationToken) =>
        WriteAsync(responseType, "{\"resultCode\":200,\"errorCode\":0,\"requestId\":\"" + requestId + "\",\"success\":true}", string.Empty, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        _stream?.Dispose();
        _channel.Dispose();
        await _reader.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _arrived.Dispose();
        _writeLock.Dispose();
    }

    private async Task ReadAsync()
    {
        try
        {
            while (await _stream!.ResponseStream.MoveNext(CancellationToken.None))
            {
                var payload = _stream.ResponseStream.Current;
                JsonElement body;
                using (var document = JsonDocument.Parse(payload.Body.Value.Memory))
                {
                    body = document.RootElement.Clone();
                }

                _received.Enqueue(new Message(payload.Metadata.Type, body));
                _arrived.Release();
                if (AutoAnswer && body.TryGetProperty("requestId", out var id) && payload.Metadata.Type.EndsWith("Request", StringComparison.Ordinal))
                {
                    await AnswerAsync(payload.Metadata.Type[..^"Request".Length] + "Response", id.GetString()!, CancellationToken.None);
                }
            }
        }
        catch (Exception exception) when (exception is RpcException or IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // The connection went away.
        }
    }

    private async Task WriteAsync(string type, string json, string clientIp, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await _stream!.RequestStream.WriteAsync(Build(type, json, clientIp), cancellationToken);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private static Payload Build(string type, string json, string clientIp) => new()
    {
        Metadata = new GrayRelease.Nacos.Emulator.Grpc.Protocol.Metadata { Type = type, ClientIp = clientIp },
        Body = new Any { Value = ByteString.CopyFrom(Encoding.UTF8.GetBytes(json)) },
    };

    private sealed class Message(string type, JsonElement body)
    {
        public string Type { get; } = type;

        public JsonElement Body { get; } = body;

        public bool Taken { get; set; }
    }
}
