using Microsoft.Extensions.Logging;

namespace GrayRelease.Diagnostics;

internal static partial class Log
{
    [LoggerMessage(EventIds.IgnoredGrayHeader, LogLevel.Debug, "Ignored gray header '{HeaderName}': {Reason}.")]
    public static partial void IgnoredGrayHeader(ILogger logger, string headerName, string reason);

    [LoggerMessage(EventIds.NoAvailableInstance, LogLevel.Warning, "{Message}")]
    public static partial void NoAvailableInstance(ILogger logger, string message);

    [LoggerMessage(EventIds.RoutingTableRebuilt, LogLevel.Debug, "Service '{ServiceName}' now has {Count} instance(s) ({Routable} routable; versions: {Versions}).")]
    public static partial void RoutingTableRebuilt(ILogger logger, string serviceName, int count, int routable, string versions);

    [LoggerMessage(EventIds.InstanceQuarantined, LogLevel.Warning, "Instance {Address} of service '{ServiceName}' refused the connection; skipping it for {Quarantine}.")]
    public static partial void InstanceQuarantined(ILogger logger, string serviceName, string address, TimeSpan quarantine);

    [LoggerMessage(EventIds.ProviderFailed, LogLevel.Warning, "The instance provider failed for service '{ServiceName}' ({Unlogged} more failure(s) since the last such line were not logged; at most one line every 10 s).")]
    public static partial void ProviderFailed(ILogger logger, string serviceName, long unlogged, Exception exception);

    [LoggerMessage(EventIds.ConfiguredInstancesChanged, LogLevel.Information, "Configured instances of service '{ServiceName}' changed: {Count} instance(s).")]
    public static partial void ConfiguredInstancesChanged(ILogger logger, string serviceName, int count);

    [LoggerMessage(EventIds.ChangeHandlerFailed, LogLevel.Error, "An InstancesChanged handler failed for service '{ServiceName}'.")]
    public static partial void ChangeHandlerFailed(ILogger logger, string serviceName, Exception exception);

    [LoggerMessage(EventIds.OptionsChangeRejected, LogLevel.Error, "A configuration change made the {OptionsType} invalid; the previous values stay in force. {Failures}")]
    public static partial void OptionsChangeRejected(ILogger logger, string optionsType, string failures);
}
