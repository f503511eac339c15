using System.Text.Json.Serialization;

namespace GrayRelease.Nacos.Grpc;

// The JSON bodies of the Nacos gRPC protocol (PROTOCOL-GRPC.md §2-5; fixtures/grpc/*.json). Property names follow the
// Java classes (api/.../remote/request/*.java, api/.../remote/response/*.java): camelCase, null fields omitted.
// Getter-only properties are written (as Java writes them) and ignored on input, as the server ignores them.

/// <summary>A request body; <see cref="Headers"/> travel in <c>Metadata.headers</c>, the body carries them emptied.</summary>
internal abstract record NacosGrpcRequest
{
    private static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>(0);

    /// <summary>Headers of this request (accessToken ...): sent in Metadata.headers, merged back on reading.</summary>
    [JsonIgnore]
    public IReadOnlyDictionary<string, string> Headers { get; init; } = NoHeaders;

    /// <summary>Always <c>{}</c> in the body: Java's GrpcUtils empties the map before writing it (a null map fails on the server).</summary>
    [JsonPropertyName("headers")]
#pragma warning disable CA1822 // Serialized: must be an instance property.
    public IReadOnlyDictionary<string, string> BodyHeaders => NoHeaders;
#pragma warning restore CA1822

    /// <summary>Set on server requests (decimal string from a server-wide counter); the answer echoes it.</summary>
    public string? RequestId { get; init; }

    /// <summary>Read-only getter in Java (<c>internal</c>, <c>naming</c>, <c>config</c>): written, ignored on input.</summary>
    public abstract string Module { get; }
}

/// <summary>A response body: <c>resultCode</c> 200 or 500, <c>errorCode</c> 0 on success.</summary>
internal abstract record NacosGrpcResponse
{
    public int ResultCode { get; init; } = 200;

    public int ErrorCode { get; init; }

    public string? Message { get; init; }

    public string? RequestId { get; init; }

    /// <summary>Java's <c>isSuccess()</c> getter: written, ignored on input.</summary>
    public bool Success => ResultCode == 200;
}

// ---- internal module ----
internal sealed record ServerCheckRequest : NacosGrpcRequest
{
    public override string Module => "internal";
}

internal sealed record ServerCheckResponse : NacosGrpcResponse
{
    public string? ConnectionId { get; init; }

    /// <summary>Absent before 2.3: then the server sends no SetupAck.</summary>
    public bool SupportAbilityNegotiation { get; init; }
}

internal sealed record HealthCheckRequest : NacosGrpcRequest
{
    public override string Module => "internal";
}

internal sealed record HealthCheckResponse : NacosGrpcResponse;

internal sealed record ConnectionSetupRequest : NacosGrpcRequest
{
    public string? ClientVersion { get; init; }

    public string? Tenant { get; init; }

    public Dictionary<string, string>? Labels { get; init; }

    /// <summary>Not null (<c>{}</c> counts) makes a 2.3+ server answer with SetupAckRequest.</summary>
    public Dictionary<string, bool>? AbilityTable { get; init; }

    public override string Module => "internal";
}

internal sealed record SetupAckRequest : NacosGrpcRequest
{
    public Dictionary<string, bool>? AbilityTable { get; init; }

    public override string Module => "internal";
}

/// <summary>Never sent by a server (the client does not answer SetupAck); kept for the fixture.</summary>
internal sealed record SetupAckResponse : NacosGrpcResponse;

internal sealed record ClientDetectionRequest : NacosGrpcRequest
{
    public override string Module => "internal";
}

internal sealed record ClientDetectionResponse : NacosGrpcResponse;

internal sealed record ConnectResetRequest : NacosGrpcRequest
{
    public string? ServerIp { get; init; }

    /// <summary>The target's main (HTTP) port, as a string.</summary>
    public string? ServerPort { get; init; }

    public string? ConnectionId { get; init; }

    public override string Module => "internal";
}

internal sealed record ConnectResetResponse : NacosGrpcResponse;

internal sealed record ErrorResponse : NacosGrpcResponse;

// ---- naming ----
internal sealed record NacosGrpcInstance
{
    public string? InstanceId { get; init; }

    public string Ip { get; init; } = string.Empty;

    public int Port { get; init; }

    public double Weight { get; init; } = 1.0;

    public bool Healthy { get; init; } = true;

    public bool Enabled { get; init; } = true;

    public bool Ephemeral { get; init; } = true;

    public string? ClusterName { get; init; }

    /// <summary><c>group@@name</c> in what the server writes.</summary>
    public string? ServiceName { get; init; }

    public Dictionary<string, string>? Metadata { get; init; }
}

internal sealed record NacosGrpcServiceInfo
{
    /// <summary>Bare service name (the v1 HTTP API answers <c>group@@name</c>).</summary>
    public string? Name { get; init; }

    public string? GroupName { get; init; }

    public string? Clusters { get; init; }

    public long CacheMillis { get; init; }

    public List<NacosGrpcInstance>? Hosts { get; init; }

    public long LastRefTime { get; init; }

    public string? Checksum { get; init; }

    public bool AllIps { get; init; }

    public bool ReachProtectionThreshold { get; init; }

    public bool Valid { get; init; } = true;
}

/// <summary>Common fields of naming requests (api/.../naming/remote/request/AbstractNamingRequest.java); no defaults on gRPC.</summary>
internal abstract record NamingRequest : NacosGrpcRequest
{
    public string? Namespace { get; init; }

    public string? ServiceName { get; init; }

    public string? GroupName { get; init; }

    public override string Module => "naming";
}

internal sealed record InstanceRequest : NamingRequest
{
    public const string Register = "registerInstance";
    public const string Deregister = "deregisterInstance";

    public string? Type { get; init; }

    public NacosGrpcInstance? Instance { get; init; }
}

internal sealed record InstanceResponse : NacosGrpcResponse
{
    public string? Type { get; init; }
}

internal sealed record BatchInstanceRequest : NamingRequest
{
    public const string BatchRegister = "batchRegisterInstance";

    public string? Type { get; init; }

    public List<NacosGrpcInstance>? Instances { get; init; }
}

internal sealed record BatchInstanceResponse : NacosGrpcResponse
{
    public string? Type { get; init; }
}

internal sealed record PersistentInstanceRequest : NamingRequest
{
    public string? Type { get; init; }

    public NacosGrpcInstance? Instance { get; init; }
}

internal sealed record SubscribeServiceRequest : NamingRequest
{
    public bool Subscribe { get; init; }

    /// <summary><c>""</c> or <c>"a,b"</c>; echoed in the pushed ServiceInfo.</summary>
    public string? Clusters { get; init; }
}

internal sealed record SubscribeServiceResponse : NacosGrpcResponse
{
    public NacosGrpcServiceInfo? ServiceInfo { get; init; }
}

internal sealed record ServiceQueryRequest : NamingRequest
{
    public string? Cluster { get; init; }

    public bool HealthyOnly { get; init; }

    public int UdpPort { get; init; }
}

internal sealed record QueryServiceResponse : NacosGrpcResponse
{
    public NacosGrpcServiceInfo? ServiceInfo { get; init; }
}

internal sealed record NotifySubscriberRequest : NacosGrpcRequest
{
    public NacosGrpcServiceInfo? ServiceInfo { get; init; }

    public override string Module => "naming";
}

internal sealed record NotifySubscriberResponse : NacosGrpcResponse;

// ---- config ----
internal sealed record ConfigListenContext
{
    public string? Group { get; init; }

    /// <summary>Lower-case hex MD5 of the UTF-8 content; <c>""</c> = "I have none".</summary>
    public string? Md5 { get; init; }

    public string? DataId { get; init; }

    public string? Tenant { get; init; }
}

internal sealed record ConfigContext
{
    public string? Group { get; init; }

    public string? DataId { get; init; }

    public string? Tenant { get; init; }
}

internal sealed record ConfigBatchListenRequest : NacosGrpcRequest
{
    public bool Listen { get; init; } = true;

    public List<ConfigListenContext>? ConfigListenContexts { get; init; }

    public override string Module => "config";
}

internal sealed record ConfigChangeBatchListenResponse : NacosGrpcResponse
{
    public List<ConfigContext>? ChangedConfigs { get; init; }
}

internal sealed record ConfigQueryRequest : NacosGrpcRequest
{
    /// <summary>The <c>notify</c> header (not this body field, always false in Java) tells the server it is a push follow-up.</summary>
    public const string NotifyHeader = "notify";

    public string? DataId { get; init; }

    public string? Group { get; init; }

    public string? Tenant { get; init; }

    public string? Tag { get; init; }

#pragma warning disable CA1822 // Serialized: must be an instance property.
    public bool Notify => false;
#pragma warning restore CA1822

    public override string Module => "config";
}

internal sealed record ConfigQueryResponse : NacosGrpcResponse
{
    /// <summary>errorCode of a typed "config data not exist" answer (resultCode 500).</summary>
    public const int ConfigNotFound = 300;

    /// <summary>errorCode of "requested file is being modified, please try later.".</summary>
    public const int ConfigQueryConflict = 400;

    public string? Content { get; init; }

    public string? EncryptedDataKey { get; init; }

    public string? ContentType { get; init; }

    public string? Md5 { get; init; }

    public long LastModified { get; init; }

    public bool Beta { get; init; }

    public string? Tag { get; init; }
}

internal sealed record ConfigPublishRequest : NacosGrpcRequest
{
    public string? DataId { get; init; }

    public string? Group { get; init; }

    public string? Tenant { get; init; }

    public string? Content { get; init; }

    public string? CasMd5 { get; init; }

    public Dictionary<string, string>? AdditionMap { get; init; }

    public override string Module => "config";
}

internal sealed record ConfigPublishResponse : NacosGrpcResponse;

internal sealed record ConfigRemoveRequest : NacosGrpcRequest
{
    public string? DataId { get; init; }

    public string? Group { get; init; }

    public string? Tenant { get; init; }

    public string? Tag { get; init; }

    public override string Module => "config";
}

internal sealed record ConfigRemoveResponse : NacosGrpcResponse;

internal sealed record ConfigChangeNotifyRequest : NacosGrpcRequest
{
    public string? DataId { get; init; }

    public string? Group { get; init; }

    /// <summary>3.x omits it when the listen sent a blank tenant; 2.x sends <c>""</c>.</summary>
    public string? Tenant { get; init; }

    public override string Module => "config";
}

internal sealed record ConfigChangeNotifyResponse : NacosGrpcResponse;
