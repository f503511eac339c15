using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Emulator.Diagnostics;

internal static partial class Log
{
    // As the server's "[cas-publish-config-fail] ... server md5 may have changed" (ConfigOperationService.java).
    [LoggerMessage(EventIds.ConfigCasRejected, LogLevel.Information, "Compare-and-set publish of config '{DataId}' in group '{Group}' (tenant '{Tenant}') refused: the server's md5 has changed.")]
    public static partial void ConfigCasRejected(ILogger logger, string tenant, string group, string dataId);
}
