using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Emulator.Diagnostics;

/// <summary>Transport, auth and config messages (event ids 200-249).</summary>
internal static partial class Log
{
    [LoggerMessage(EventIds.V1ApiGone, LogLevel.Debug, "Answered {Path} 410 Gone: the v1 API is switched off (NacosEmulatorOptions.V1ApiGone).")]
    public static partial void V1ApiGone(ILogger logger, string path);

    [LoggerMessage(EventIds.PermissionDenied, LogLevel.Debug, "Refused {Path} with 403: the user lacks the permission (NacosEmulatorFaults.PermissionDenied).")]
    public static partial void PermissionDenied(ILogger logger, string path);
}
