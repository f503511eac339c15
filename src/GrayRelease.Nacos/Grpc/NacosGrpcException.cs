namespace GrayRelease.Nacos.Grpc;

/// <summary>
/// A Nacos server refused a gRPC request (ErrorResponse, or a typed answer with a failure code the caller cannot
/// handle): <see cref="ErrorCode"/> is the server's code (api/.../exception/NacosException.java: 302 no handler,
/// 400 invalid parameter, 500 server error, 502 bad gateway, 503 over threshold, -401 client disconnected ...).
/// </summary>
internal sealed class NacosGrpcException : NacosException
{
    public NacosGrpcException()
    {
    }

    public NacosGrpcException(string message)
        : base(message)
    {
    }

    public NacosGrpcException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public NacosGrpcException(string requestType, int resultCode, int errorCode, string? serverMessage)
        : base($"Nacos refused {requestType}: resultCode {resultCode}, errorCode {errorCode}: {NacosGrpcCodec.Shorten(serverMessage)}")
    {
        RequestType = requestType;
        ResultCode = resultCode;
        ErrorCode = errorCode;
        ServerMessage = serverMessage;
    }

    public string? RequestType { get; }

    public int ResultCode { get; }

    public int ErrorCode { get; }

    public string? ServerMessage { get; }
}

/// <summary>Nacos error codes the transport acts on (api/.../exception/NacosException.java).</summary>
internal static class NacosGrpcErrorCodes
{
    /// <summary>Server starting: "Server is starting,please try later." (GrpcRequestAcceptor).</summary>
    public const int ServerStarting = 300;

    /// <summary>"Connection is unregistered.": the server no longer knows this connection → reconnect.</summary>
    public const int Unregistered = 301;

    public const int NoHandler = 302;

    public const int InvalidParam = 400;

    /// <summary>Auth filter: bad, missing or expired token, or no permission.</summary>
    public const int NoRight = 403;

    public const int ServerError = 500;

    public const int BadGateway = 502;

    public const int OverThreshold = 503;

    public const int ClientDisconnect = -401;

    public const int ClientError = -500;
}
