using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using GrayRelease.Nacos.Grpc.Protocol;
using GrayRelease.Nacos.Http;

namespace GrayRelease.Nacos.Grpc;

/// <summary>
/// Turns the message records into <see cref="Payload"/> envelopes and back, as Nacos's GrpcUtils does
/// (common/.../remote/client/grpc/GrpcUtils.java): <c>Metadata.type</c> = Java simple class name, headers in
/// <c>Metadata.headers</c>, body = <c>Any</c> with an empty type_url and the UTF-8 JSON in <c>value</c>.
/// </summary>
internal static class NacosGrpcCodec
{
    // common/.../utils/JacksonUtils.java: camelCase, nulls omitted, unknown properties ignored, case-sensitive.
    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DictionaryKeyPolicy = null,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        PropertyNameCaseInsensitive = false,
        MaxDepth = 32,
    };

    private static readonly System.Type[] Known =
    [
        typeof(ServerCheckRequest), typeof(ServerCheckResponse), typeof(HealthCheckRequest), typeof(HealthCheckResponse),
        typeof(ConnectionSetupRequest), typeof(SetupAckRequest), typeof(SetupAckResponse),
        typeof(ClientDetectionRequest), typeof(ClientDetectionResponse), typeof(ConnectResetRequest), typeof(ConnectResetResponse),
        typeof(ErrorResponse),
        typeof(InstanceRequest), typeof(InstanceResponse), typeof(BatchInstanceRequest), typeof(BatchInstanceResponse),
        typeof(PersistentInstanceRequest), typeof(SubscribeServiceRequest), typeof(SubscribeServiceResponse),
        typeof(ServiceQueryRequest), typeof(QueryServiceResponse), typeof(NotifySubscriberRequest), typeof(NotifySubscriberResponse),
        typeof(ConfigBatchListenRequest), typeof(ConfigChangeBatchListenResponse), typeof(ConfigQueryRequest), typeof(ConfigQueryResponse),
        typeof(ConfigPublishRequest), typeof(ConfigPublishResponse), typeof(ConfigRemoveRequest), typeof(ConfigRemoveResponse),
        typeof(ConfigChangeNotifyRequest), typeof(ConfigChangeNotifyResponse),
    ];

    // The record names are the Java simple class names (the payload registry's keys, common/.../remote/PayloadRegistry.java).
    private static readonly Dictionary<string, System.Type> ByName = Known.ToDictionary(t => t.Name, StringComparer.Ordinal);

    /// <summary>Longest <c>Metadata.type</c> echoed into an error message (it comes from the network).</summary>
    private const int MaxTypeInMessage = 64;

    public static string TypeName(object message) => message.GetType().Name;

    /// <summary>Wraps a request; <paramref name="headers"/> (merged over the request's own) go in Metadata, not the body.</summary>
    public static Payload Encode(NacosGrpcRequest request, IReadOnlyDictionary<string, string>? headers = null, string? clientIp = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var metadata = new Metadata { Type = TypeName(request), ClientIp = clientIp ?? string.Empty };
        foreach (var (key, value) in request.Headers)
        {
            metadata.Headers[key] = value;
        }

        if (headers is not null)
        {
            foreach (var (key, value) in headers)
            {
                metadata.Headers[key] = value;
            }
        }

        return Wrap(metadata, request);
    }

    /// <summary>Wraps a response (no headers, no client IP, as GrpcUtils writes answers).</summary>
    public static Payload Encode(NacosGrpcResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return Wrap(new Metadata { Type = TypeName(response) }, response);
    }

    /// <summary>The JSON body a message is written as (tests compare it with the fixtures).</summary>
    public static byte[] ToJson(object message) => JsonSerializer.SerializeToUtf8Bytes(message, message.GetType(), Json);

    /// <summary>
    /// Reads an envelope into its record (a <see cref="NacosGrpcRequest"/> with its headers, or a <see cref="NacosGrpcResponse"/>).
    /// Unknown type, missing or unreadable body → <see cref="NacosProtocolException"/>: the bytes are untrusted.
    /// </summary>
    public static object Decode(Payload payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var typeName = payload.Metadata?.Type ?? string.Empty;
        if (!ByName.TryGetValue(typeName, out var type))
        {
            throw new NacosProtocolException($"Unknown Nacos gRPC message type '{Shorten(typeName)}'.");
        }

        // GrpcUtils.parse reads body.value as JSON whatever type_url says: read Value, never Unpack.
        var body = payload.Body?.Value;
        if (body is null || body.IsEmpty)
        {
            throw new NacosProtocolException($"Nacos gRPC message {typeName} has no body.");
        }

        object? message;
        try
        {
            message = JsonSerializer.Deserialize(body.Span, type, Json);
        }
        catch (JsonException ex)
        {
            throw new NacosProtocolException($"Nacos gRPC message {typeName} has an unreadable body: {ex.Message}", ex);
        }

        if (message is null)
        {
            throw new NacosProtocolException($"Nacos gRPC message {typeName} has a null body.");
        }

        if (message is NacosGrpcRequest request && payload.Metadata!.Headers.Count > 0)
        {
            // Request.java keeps headers case-insensitively once the server merges them back.
            var merged = new Dictionary<string, string>(payload.Metadata.Headers, StringComparer.OrdinalIgnoreCase);
            message = request with { Headers = merged };
        }

        return message;
    }

    /// <summary>The answer a client gives to a server request it handled; null for types it does not answer.</summary>
    public static NacosGrpcResponse? AnswerFor(NacosGrpcRequest request) => request switch
    {
        ClientDetectionRequest => new ClientDetectionResponse { RequestId = request.RequestId },
        ConnectResetRequest => new ConnectResetResponse { RequestId = request.RequestId },
        NotifySubscriberRequest => new NotifySubscriberResponse { RequestId = request.RequestId },
        ConfigChangeNotifyRequest => new ConfigChangeNotifyResponse { RequestId = request.RequestId },
        _ => null,
    };

    internal static string Shorten(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return string.Empty;
        }

        var text = value.Length <= MaxTypeInMessage ? value : value[..MaxTypeInMessage] + "…";
        return new string(text.Select(c => char.IsControl(c) ? '?' : c).ToArray());
    }

    private static Payload Wrap(Metadata metadata, object message) => new()
    {
        Metadata = metadata,
        Body = new Any { Value = ByteString.CopyFrom(ToJson(message)) },
    };
}
