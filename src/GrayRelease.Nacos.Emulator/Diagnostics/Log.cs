using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Emulator.Diagnostics;

/// <summary>The emulator's log messages; never passwords or tokens.</summary>
internal static partial class Log
{
    [LoggerMessage(EventIds.Started, LogLevel.Information, "Nacos emulator listening on {Address}.")]
    public static partial void Started(ILogger logger, string address);

    [LoggerMessage(EventIds.Stopped, LogLevel.Information, "Nacos emulator on {Address} stopped.")]
    public static partial void Stopped(ILogger logger, string address);

    [LoggerMessage(EventIds.InstanceRegistered, LogLevel.Debug, "Registered {Ip}:{Port} in service '{ServiceName}' (namespace '{NamespaceId}').")]
    public static partial void InstanceRegistered(ILogger logger, string namespaceId, string serviceName, string ip, int port);

    [LoggerMessage(EventIds.InstanceDeregistered, LogLevel.Debug, "Deregistered {Ip}:{Port} from service '{ServiceName}' (namespace '{NamespaceId}').")]
    public static partial void InstanceDeregistered(ILogger logger, string namespaceId, string serviceName, string ip, int port);

    [LoggerMessage(EventIds.InstanceExpired, LogLevel.Information, "Removed {Ip}:{Port} from service '{ServiceName}' (namespace '{NamespaceId}'): no beat within its delete timeout.")]
    public static partial void InstanceExpired(ILogger logger, string namespaceId, string serviceName, string ip, int port);

    [LoggerMessage(EventIds.BeatForUnknownInstance, LogLevel.Debug, "Beat for unknown instance {Ip}:{Port} of service '{ServiceName}': answered 20404.")]
    public static partial void BeatForUnknownInstance(ILogger logger, string serviceName, string ip, int port);

    [LoggerMessage(EventIds.Subscribed, LogLevel.Debug, "{Target} ({Agent}) subscribed to UDP push of service '{ServiceName}'.")]
    public static partial void Subscribed(ILogger logger, string serviceName, string target, string agent);

    [LoggerMessage(EventIds.SubscriptionExpired, LogLevel.Debug, "UDP push subscription of {Target} to service '{ServiceName}' expired.")]
    public static partial void SubscriptionExpired(ILogger logger, string serviceName, string target);

    [LoggerMessage(EventIds.PushSent, LogLevel.Debug, "Pushed service '{ServiceName}' to {Target} ({Bytes} bytes, send #{Attempt}).")]
    public static partial void PushSent(ILogger logger, string serviceName, string target, int bytes, int attempt);

    [LoggerMessage(EventIds.PushFailed, LogLevel.Warning, "UDP push of service '{ServiceName}' to {Target} failed.")]
    public static partial void PushFailed(ILogger logger, string serviceName, string target, Exception exception);

    [LoggerMessage(EventIds.PushNotAcknowledged, LogLevel.Debug, "UDP push of service '{ServiceName}' to {Target} was not acknowledged after {Sends} sends.")]
    public static partial void PushNotAcknowledged(ILogger logger, string serviceName, string target, int sends);

    [LoggerMessage(EventIds.PushAcknowledged, LogLevel.Debug, "{Target} acknowledged the push of service '{ServiceName}'.")]
    public static partial void PushAcknowledged(ILogger logger, string serviceName, string target);

    [LoggerMessage(EventIds.UnexpectedUdpPacket, LogLevel.Debug, "Ignored a UDP packet of type '{Type}' from {Sender}.")]
    public static partial void UnexpectedUdpPacket(ILogger logger, string sender, string type);

    [LoggerMessage(EventIds.PushNotEnabledForAgent, LogLevel.Debug, "No UDP push for agent '{Agent}': not a known Nacos client at its minimum version.")]
    public static partial void PushNotEnabledForAgent(ILogger logger, string agent);

    [LoggerMessage(EventIds.PushTargetReplaced, LogLevel.Debug, "UDP push goes to the caller {Caller}, not to clientIP {ClientIp}: only this machine or the caller may be pushed to.")]
    public static partial void PushTargetReplaced(ILogger logger, string clientIp, string caller);

    [LoggerMessage(EventIds.ConfigPublished, LogLevel.Debug, "Published config '{DataId}' in group '{Group}' (tenant '{Tenant}').")]
    public static partial void ConfigPublished(ILogger logger, string tenant, string group, string dataId);

    [LoggerMessage(EventIds.ConfigRemoved, LogLevel.Debug, "Removed config '{DataId}' in group '{Group}' (tenant '{Tenant}').")]
    public static partial void ConfigRemoved(ILogger logger, string tenant, string group, string dataId);

    [LoggerMessage(EventIds.LoginSucceeded, LogLevel.Debug, "User '{UserName}' logged in.")]
    public static partial void LoginSucceeded(ILogger logger, string userName);

    [LoggerMessage(EventIds.LoginFailed, LogLevel.Warning, "Login refused for user '{UserName}'.")]
    public static partial void LoginFailed(ILogger logger, string userName);

    [LoggerMessage(EventIds.Unauthorized, LogLevel.Debug, "Refused {Path}: {Reason}")]
    public static partial void Unauthorized(ILogger logger, string path, string reason);

    [LoggerMessage(EventIds.FaultInjected, LogLevel.Debug, "Injected fault '{Fault}' into {Path}.")]
    public static partial void FaultInjected(ILogger logger, string path, string fault);

    [LoggerMessage(EventIds.HealthCheckFailed, LogLevel.Error, "The health check failed.")]
    public static partial void HealthCheckFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventIds.AckReceiverFailed, LogLevel.Warning, "The UDP push socket failed; push acks are no longer received until the emulator restarts.")]
    public static partial void AckReceiverFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventIds.ParamCheckRefused, LogLevel.Debug, "Refused {Path} at the parameter check: {Reason}")]
    public static partial void ParamCheckRefused(ILogger logger, string path, string reason);
}
