using Microsoft.Extensions.Logging;

namespace GrayRelease.Rollouts;

/// <summary>Every log line of the package (event ids in <see cref="RolloutEventIds"/>).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = RolloutEventIds.Transition, Level = LogLevel.Information, Message = "Rollout of {GrayVersion} over {ProdVersion}: {From} step {FromStep} -> {To} step {ToStep} ({Percentage} % gray) by {By}: {Reason}. Figures: {Figures}")]
    public static partial void Transition(ILogger logger, string grayVersion, string prodVersion, RolloutStatus from, int fromStep, RolloutStatus to, int toStep, double percentage, string by, string reason, string figures);

    [LoggerMessage(EventId = RolloutEventIds.IntervalJudged, Level = LogLevel.Information, Message = "Rollout interval at step {Step} ({Percentage} % gray) judged {Outcome}: {Reason}. Figures: {Figures}")]
    public static partial void IntervalJudged(ILogger logger, int step, double percentage, string outcome, string reason, string figures);

    [LoggerMessage(EventId = RolloutEventIds.LeaseAcquired, Level = LogLevel.Information, Message = "Rollout lease {LeaseDataId} acquired by {InstanceId} (term {Term}, previous holder '{Previous}'): this gateway now advances the rollout.")]
    public static partial void LeaseAcquired(ILogger logger, string leaseDataId, string instanceId, long term, string previous);

    [LoggerMessage(EventId = RolloutEventIds.LeaseLost, Level = LogLevel.Warning, Message = "Rollout lease {LeaseDataId} lost by {InstanceId}: {Reason}. This gateway stops advancing the rollout.")]
    public static partial void LeaseLost(ILogger logger, string leaseDataId, string instanceId, string reason);

    [LoggerMessage(EventId = RolloutEventIds.LeaseReleased, Level = LogLevel.Information, Message = "Rollout lease {LeaseDataId} released by {InstanceId} on shutdown.")]
    public static partial void LeaseReleased(ILogger logger, string leaseDataId, string instanceId);

    [LoggerMessage(EventId = RolloutEventIds.NacosUnreachable, Level = LogLevel.Warning, Message = "Nacos unreachable while reading the rollout ({Error}): the rollout holds at {Percentage} % gray and is not advanced until Nacos answers.")]
    public static partial void NacosUnreachable(ILogger logger, string error, double? percentage);

    [LoggerMessage(EventId = RolloutEventIds.NacosReachableAgain, Level = LogLevel.Information, Message = "Nacos reachable again: the rollout resumes following its state; the interval in progress starts over.")]
    public static partial void NacosReachableAgain(ILogger logger);

    [LoggerMessage(EventId = RolloutEventIds.StateInvalid, Level = LogLevel.Error, Message = "The rollout dataId {DataId} does not hold valid JSON ({Error}); ignored, the last valid state stays in force.")]
    public static partial void StateInvalid(ILogger logger, string dataId, string error);

    [LoggerMessage(EventId = RolloutEventIds.StateWriteConflict, Level = LogLevel.Information, Message = "The rollout state changed in Nacos before this gateway's write ({What}); it reads it again.")]
    public static partial void StateWriteConflict(ILogger logger, string what);

    [LoggerMessage(EventId = RolloutEventIds.LoopFailed, Level = LogLevel.Error, Message = "The rollout loop failed; it goes on at the next tick.")]
    public static partial void LoopFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = RolloutEventIds.PercentageApplied, Level = LogLevel.Debug, Message = "Rollout applies {Percentage} % gray (status {Status}, step {Step}).")]
    public static partial void PercentageApplied(ILogger logger, double? percentage, RolloutStatus? status, int step);

    [LoggerMessage(EventId = RolloutEventIds.PromotionPublishFailed, Level = LogLevel.Error, Message = "Promotion could not publish GrayRelease:ProdVersion = {GrayVersion} into {DataId}: {Reason}. The rollout stays at its last step; the next interval tries again.")]
    public static partial void PromotionPublishFailed(ILogger logger, string grayVersion, string dataId, string reason);

    [LoggerMessage(EventId = RolloutEventIds.ProdVersionPublished, Level = LogLevel.Information, Message = "Promotion published GrayRelease:ProdVersion = {GrayVersion} into {DataId}.")]
    public static partial void ProdVersionPublished(ILogger logger, string grayVersion, string dataId);

    [LoggerMessage(EventId = RolloutEventIds.NotInRelease, Level = LogLevel.Warning, Message = "Rollout enabled but GrayRelease:GrayVersion ('{GrayVersion}') and GrayRelease:ProdVersion ('{ProdVersion}') do not name two versions: nothing to roll out.")]
    public static partial void NotInRelease(ILogger logger, string? grayVersion, string? prodVersion);

    [LoggerMessage(EventId = RolloutEventIds.WatchFailed, Level = LogLevel.Debug, Message = "Watching the rollout dataId failed ({Error}); the periodic read goes on.")]
    public static partial void WatchFailed(ILogger logger, string error);

    [LoggerMessage(EventId = RolloutEventIds.GatewayDisabled, Level = LogLevel.Warning, Message = "Rollout enabled while GrayRelease:Gateway:Enabled is false: every request is ALL, so the percentage the rollout sets has no effect.")]
    public static partial void GatewayDisabled(ILogger logger);
}
