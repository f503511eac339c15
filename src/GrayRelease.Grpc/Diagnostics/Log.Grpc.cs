using Microsoft.Extensions.Logging;

namespace GrayRelease.Grpc.Diagnostics;

internal static partial class Log
{
    [LoggerMessage(EventId = EventIds.AddressesResolved, Level = LogLevel.Debug, Message = "gRPC resolver for service '{ServiceName}': {Count} routable address(es).")]
    public static partial void AddressesResolved(ILogger logger, string serviceName, int count);

    [LoggerMessage(EventId = EventIds.UnknownService, Level = LogLevel.Warning, Message = "gRPC resolver for service '{ServiceName}': the instance provider does not know the service.")]
    public static partial void UnknownService(ILogger logger, string serviceName);

    [LoggerMessage(EventId = EventIds.ResolveFailed, Level = LogLevel.Warning, Message = "gRPC resolver for service '{ServiceName}': the instance provider failed.")]
    public static partial void ResolveFailed(ILogger logger, string serviceName, Exception exception);

    [LoggerMessage(EventId = EventIds.NoAvailableSubchannel, Level = LogLevel.Warning, Message = "gRPC call to service '{ServiceName}': {Message}")]
    public static partial void NoAvailableSubchannel(ILogger logger, string serviceName, string message);
}
