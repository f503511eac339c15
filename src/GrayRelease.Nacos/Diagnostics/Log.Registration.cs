using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Diagnostics;

/// <summary>Self-registration, second band (150-199).</summary>
internal static partial class Log
{
    [LoggerMessage(EventIds.BeatIntervalOutOfRange, LogLevel.Warning, "Nacos answered the heartbeat of {Registration} with clientBeatInterval {Answered}; beating every {Interval} instead (accepted: {Min} to {Max})")]
    public static partial void BeatIntervalOutOfRange(ILogger logger, string registration, string answered, TimeSpan interval, TimeSpan min, TimeSpan max);

    [LoggerMessage(EventIds.BeatRefused, LogLevel.Information, "Nacos refused the heartbeat of {Registration} with status {StatusCode} ({Detail}); registering again")]
    public static partial void BeatRefused(ILogger logger, string registration, int statusCode, string? detail);

    [LoggerMessage(EventIds.RegistrationLoopFailed, LogLevel.Error, "The Nacos registration loop of {Registration} failed; heartbeats stopped")]
    public static partial void RegistrationLoopFailed(ILogger logger, Exception exception, string registration);

    [LoggerMessage(EventIds.RegistrationRefused, LogLevel.Error, "Nacos refused the registration of {Registration}; retrying in {RetryDelay}. The server's reason is in the exception; a service holds either ephemeral or persistent instances (nacos:Ephemeral)")]
    public static partial void RegistrationRefused(ILogger logger, Exception exception, string registration, TimeSpan retryDelay);
}
