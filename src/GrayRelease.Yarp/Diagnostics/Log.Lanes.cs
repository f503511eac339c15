using Microsoft.Extensions.Logging;

namespace GrayRelease.Yarp;

/// <summary>Log lines of the gateway's lanes (event ids 700–709).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = EventIds.GatewayLanesCompiled, Level = LogLevel.Information, Message = "Gateway lanes loaded, in the order they are tried: {Lanes}.")]
    public static partial void GatewayLanesCompiled(ILogger logger, string lanes);

    [LoggerMessage(EventId = EventIds.LaneEntered, Level = LogLevel.Debug, Message = "Request entered lane '{Lane}' (rule {Rule}).")]
    public static partial void LaneEntered(ILogger logger, string lane, string rule);
}
