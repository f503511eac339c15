using Microsoft.Extensions.Logging;

namespace GrayRelease.Diagnostics;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug, "Ignored gray header '{HeaderName}': {Reason}.")]
    public static partial void IgnoredGrayHeader(ILogger logger, string headerName, string reason);

    [LoggerMessage(2, LogLevel.Warning, "{Message}")]
    public static partial void NoAvailableInstance(ILogger logger, string message);

    [LoggerMessage(3, LogLevel.Debug, "Service '{ServiceName}' now has {Count} instance(s) ({Routable} routable; versions: {Versions}).")]
    public static partial void RoutingTableRebuilt(ILogger logger, string serviceName, int count, int routable, string versions);

    [LoggerMessage(4, LogLevel.Warning, "Instance {Address} of service '{ServiceName}' refused the connection; skipping it for {Quarantine}.")]
    public static partial void InstanceQuarantined(ILogger logger, string serviceName, string address, TimeSpan quarantine);

    [LoggerMessage(5, LogLevel.Warning, "The instance provider failed for service '{ServiceName}' ({Unlogged} more failure(s) since the last such line were not logged; at most one line every 10 s).")]
    public static partial void ProviderFailed(ILogger logger, string serviceName, long unlogged, Exception exception);

    [LoggerMessage(6, LogLevel.Information, "Configured instances of service '{ServiceName}' changed: {Count} instance(s).")]
    public static partial void ConfiguredInstancesChanged(ILogger logger, string serviceName, int count);

    [LoggerMessage(7, LogLevel.Error, "An InstancesChanged handler failed for service '{ServiceName}'.")]
    public static partial void ChangeHandlerFailed(ILogger logger, string serviceName, Exception exception);

    [LoggerMessage(8, LogLevel.Error, "A configuration change made the {OptionsType} invalid; the previous values stay in force. {Failures}")]
    public static partial void OptionsChangeRejected(ILogger logger, string optionsType, string failures);
}
