namespace GrayRelease.Rollouts;

/// <summary>Read-only view of the rollout as this gateway sees it, for a status page or a health check.</summary>
public interface IRolloutStatus
{
    /// <summary>A consistent copy of the current state; cheap, safe to call from any thread.</summary>
    RolloutSnapshot GetSnapshot();
}
