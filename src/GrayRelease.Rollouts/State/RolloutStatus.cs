namespace GrayRelease.Rollouts;

/// <summary>Where a rollout stands.</summary>
public enum RolloutStatus
{
    /// <summary>Stepping: each interval is judged; a pass advances, failures up to the threshold roll back.</summary>
    Progressing,

    /// <summary>Held at its step by an operator (or an outage): nothing is judged or advanced.</summary>
    Paused,

    /// <summary>Ended with the gray percentage at 0; header, IP and user rules still reach gray.</summary>
    RolledBack,

    /// <summary>Ended at 100 % (and, if configured, with <c>ProdVersion</c> published as the gray version).</summary>
    Promoted,
}
