using Microsoft.Extensions.Logging;

namespace GrayRelease.Grpc.Diagnostics;

internal static partial class Log
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Debug, Message = "gRPC resolver for service '{ServiceName}': {Count} routable address(es).")]
    public static partial void AddressesResolved(ILogger logger, string serviceName, int count);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "gRPC resolver for service '{ServiceName}': the instance provider does not know the service.")]
    public static partial void UnknownService(ILogger logger, string serviceName);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "gRPC resolver for service '{ServiceName}': the instance provider failed.")]
    public static partial void ResolveFailed(ILogger logger, string serviceName, Exception exception);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "gRPC call to service '{ServiceName}': {Message}")]
    public static partial void NoAvailableSubchannel(ILogger logger, string serviceName, string message);
}
