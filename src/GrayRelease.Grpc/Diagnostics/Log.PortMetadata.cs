using Microsoft.Extensions.Logging;

namespace GrayRelease.Grpc.Diagnostics;

internal static partial class Log
{
    [LoggerMessage(EventId = EventIds.BadPortMetadata, Level = LogLevel.Warning, Message = "gRPC resolver for service '{ServiceName}': instance {Host}:{Port} skipped, its metadata '{Key}' is not a port (1-65535): '{Value}'.")]
    public static partial void BadPortMetadata(ILogger logger, string serviceName, string host, int port, string key, string value);
}
