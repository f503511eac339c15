using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Diagnostics;

// 450-499: configuration over gRPC and the transport choice of the configuration source. Strings from the network are shortened.
internal static partial class Log
{
    [LoggerMessage(450, LogLevel.Information, "Nacos configuration uses {Transport}: {Reason}")]
    public static partial void ConfigTransportChosen(ILogger logger, string transport, string reason);

    [LoggerMessage(451, LogLevel.Debug, "Nacos notified a change of the configuration dataId '{DataId}', group '{Group}'")]
    public static partial void ConfigChangeNotified(ILogger logger, string dataId, string group);

    [LoggerMessage(452, LogLevel.Warning, "Ignored a configuration change notification from Nacos without a usable dataId or group (dataId '{DataId}', group '{Group}')")]
    public static partial void ConfigNotifyIgnored(ILogger logger, string dataId, string group);

    [LoggerMessage(453, LogLevel.Information, "Listening again to {Count} Nacos configurations after (re)connecting over gRPC; {Changed} changed meanwhile")]
    public static partial void ConfigRelistened(ILogger logger, int count, int changed);

    [LoggerMessage(454, LogLevel.Warning, "Nacos answered a configuration change for dataId '{DataId}', group '{Group}' that is not listened to; ignored")]
    public static partial void ConfigUnknownChange(ILogger logger, string dataId, string group);
}
