using Microsoft.Extensions.Logging;

namespace GrayRelease.Yarp;

/// <summary>Log lines of the gateway's handling of W3C baggage (event ids 710–719).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = EventIds.ClientGrayBaggageRemoved, Level = LogLevel.Debug, Message = "Removed the client's gray baggage member(s) and {Malformed} malformed list-member(s) from the request; {Kept} other member(s) kept.")]
    public static partial void ClientGrayBaggageRemoved(ILogger logger, int malformed, int kept);
}
