using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Diagnostics;

// 450-499: configuration over gRPC and the transport choice of the configuration source. Strings from the network are shortened.
internal static partial class Log
{
    [LoggerMessage(EventIds.ConfigTransportChosen, LogLevel.Information, "Nacos configuration uses {Transport}: {Reason}")]
    public static partial void ConfigTransportChosen(ILogger logger, string transport, string reason);

    [LoggerMessage(EventIds.ConfigChangeNotified, LogLevel.Debug, "Nacos notified a change of the configuration dataId '{DataId}', group '{Group}'")]
    public static partial void ConfigChangeNotified(ILogger logger, string dataId, string group);

    [LoggerMessage(EventIds.ConfigNotifyIgnored, LogLevel.Warning, "Ignored a configuration change notification from Nacos without a usable dataId or group (dataId '{DataId}', group '{Group}')")]
    public static partial void ConfigNotifyIgnored(ILogger logger, string dataId, string group);

    [LoggerMessage(EventIds.ConfigRelistened, LogLevel.Information, "Listening again to {Count} Nacos configurations after (re)connecting over gRPC; {Changed} changed meanwhile")]
    public static partial void ConfigRelistened(ILogger logger, int count, int changed);

    [LoggerMessage(EventIds.ConfigUnknownChange, LogLevel.Warning, "Nacos answered a configuration change for dataId '{DataId}', group '{Group}' that is not listened to; ignored")]
    public static partial void ConfigUnknownChange(ILogger logger, string dataId, string group);
}
