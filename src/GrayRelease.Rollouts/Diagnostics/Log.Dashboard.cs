using Microsoft.Extensions.Logging;

namespace GrayRelease.Rollouts;

/// <summary>Log lines of the operations page (event ids 900–929).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = RolloutEventIds.DashboardPostRejected, Level = LogLevel.Warning, Message = "Rollout command POST {Path} from {RemoteAddress} rejected: {Reason}.")]
    public static partial void DashboardPostRejected(ILogger logger, string path, string remoteAddress, string reason);
}
