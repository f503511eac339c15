using Microsoft.Extensions.Logging;

namespace GrayRelease.Yarp;

/// <summary>Every log line of the package; event ids are stable, so alerts may rely on them.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = EventIds.GatewayRulesCompiled, Level = LogLevel.Information, Message = "Gray gateway rules loaded: enabled {Enabled}, rules [{Rules}].")]
    public static partial void GatewayRulesCompiled(ILogger logger, bool enabled, string rules);

    [LoggerMessage(EventId = EventIds.GrayDecisionMade, Level = LogLevel.Debug, Message = "Gray decision {Status} (rule {Rule}).")]
    public static partial void GrayDecisionMade(ILogger logger, string status, string rule);

    [LoggerMessage(EventId = EventIds.NoInstanceOfWantedVersion, Level = LogLevel.Warning, Message = "Cluster '{ClusterId}': {Reason}")]
    public static partial void NoInstanceOfWantedVersion(ILogger logger, string clusterId, string reason);

    [LoggerMessage(EventId = EventIds.FallingBack, Level = LogLevel.Debug, Message = "Cluster '{ClusterId}' has no instance of version '{WantedVersion}' for mode {Status}; falling back ({Policy}).")]
    public static partial void FallingBack(ILogger logger, string clusterId, string status, string wantedVersion, NoInstancePolicy policy);

    [LoggerMessage(EventId = EventIds.VersionFilterMissingFromPipeline, Level = LogLevel.Warning, Message = "Load-balancing policy GrayRoundRobin of cluster '{ClusterId}' had to filter versions itself: add UseGrayRouting() to the proxy pipeline (app.MapReverseProxy(p => p.UseGrayRouting())), or a request that leaves a single destination skips version filtering.")]
    public static partial void VersionFilterMissingFromPipeline(ILogger logger, string clusterId);

    [LoggerMessage(EventId = EventIds.ServiceDestinationsResolved, Level = LogLevel.Debug, Message = "Service '{ServiceName}' resolved to {Count} routable destination(s).")]
    public static partial void ServiceDestinationsResolved(ILogger logger, string serviceName, int count);

    [LoggerMessage(EventId = EventIds.ServiceUnknown, Level = LogLevel.Warning, Message = "Service '{ServiceName}' is unknown to the instance provider; its cluster has no destinations until the provider reports instances.")]
    public static partial void ServiceUnknown(ILogger logger, string serviceName);

    [LoggerMessage(EventId = EventIds.ServiceLookupFailed, Level = LogLevel.Warning, Message = "Looking up the instances of service '{ServiceName}' failed; retrying in {RetryDelay}.")]
    public static partial void ServiceLookupFailed(ILogger logger, string serviceName, TimeSpan retryDelay, Exception exception);

    [LoggerMessage(EventId = EventIds.GeoIPDatabaseOpened, Level = LogLevel.Information, Message = "GeoIP database '{Path}' opened ({DatabaseType}).")]
    public static partial void GeoIPDatabaseOpened(ILogger logger, string path, string databaseType);

    [LoggerMessage(EventId = EventIds.GeoIPDatabaseFailed, Level = LogLevel.Error, Message = "GeoIP database '{Path}' could not be opened; city rules keep the previous database, if any.")]
    public static partial void GeoIPDatabaseFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = EventIds.GeoIPLookupFailed, Level = LogLevel.Warning, Message = "GeoIP lookup failed; the request is treated as from an unknown city.")]
    public static partial void GeoIPLookupFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = EventIds.ChangeCallbackFailed, Level = LogLevel.Error, Message = "A change callback for the destinations of service '{ServiceName}' failed.")]
    public static partial void ChangeCallbackFailed(ILogger logger, string serviceName, Exception exception);

    [LoggerMessage(EventId = EventIds.GrayRuleFailed, Level = LogLevel.Warning, Message = "Gray rule '{Rule}' threw; it counts as not matched and the request goes on ({Failures} failure(s) since the last report; next report in a minute at the earliest).")]
    public static partial void GrayRuleFailed(ILogger logger, string rule, long failures, Exception exception);
}
