namespace GrayRelease.Rollouts;

/// <summary>The rollout at one moment: what Nacos holds, what this gateway applies, the last judgement and the history.</summary>
public sealed class RolloutSnapshot
{
    /// <summary>Whether <c>GrayRelease:Gateway:Rollout:Enabled</c> is on.</summary>
    public bool Enabled { get; init; }

    /// <summary>The status in Nacos; null before the state was read (or while none exists).</summary>
    public RolloutStatus? Status { get; init; }

    /// <summary>True while this gateway cannot reach Nacos: the rollout is held where it was, never advanced blind.</summary>
    public bool NacosUnreachable { get; init; }

    /// <summary>Index of the current step.</summary>
    public int Step { get; init; }

    /// <summary>The configured steps (percentages).</summary>
    public IReadOnlyList<double> Steps { get; init; } = [];

    /// <summary>The gray percentage this gateway applies now (null: the configured <c>Percentage</c>).</summary>
    public double? Percentage { get; init; }

    /// <summary>The gray version being rolled out.</summary>
    public string? GrayVersion { get; init; }

    /// <summary>The prod version it is compared against.</summary>
    public string? ProdVersion { get; init; }

    /// <summary>Consecutive failed intervals at the current step.</summary>
    public int FailedIntervals { get; init; }

    /// <summary>Whether this gateway holds the lease (advances the rollout).</summary>
    public bool IsLeader { get; init; }

    /// <summary>The lease holder's id, as last read.</summary>
    public string? Leader { get; init; }

    /// <summary>This gateway's id in the lease.</summary>
    public string? InstanceId { get; init; }

    /// <summary>When the leader judges next (null when not progressing or not the leader).</summary>
    public DateTimeOffset? NextDecisionAt { get; init; }

    /// <summary>Outcome of the last judged interval: Pass, Fail or Inconclusive.</summary>
    public string? LastVerdict { get; init; }

    /// <summary>Why, in a sentence.</summary>
    public string? LastVerdictReason { get; init; }

    /// <summary>The figures that decided it (requests, errors, p99 and p-values per service).</summary>
    public string? LastVerdictFigures { get; init; }

    /// <summary>Every transition, oldest first (the last 100).</summary>
    public IReadOnlyList<RolloutTransition> History { get; init; } = [];
}

/// <summary>
/// One transition of a rollout: when, from and to which status and step, why, with which figures, by whom. The state
/// dataId in Nacos keeps its history as these entries, so its JSON is theirs.
/// </summary>
public sealed class RolloutTransition
{
    /// <summary>When it happened.</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>Status before.</summary>
    public RolloutStatus From { get; init; }

    /// <summary>Status after.</summary>
    public RolloutStatus To { get; init; }

    /// <summary>Step before.</summary>
    public int FromStep { get; init; }

    /// <summary>Step after.</summary>
    public int ToStep { get; init; }

    /// <summary>Gray percentage after.</summary>
    public double Percentage { get; init; }

    /// <summary>Why.</summary>
    // The JSON source generator sets every init-only property, with null where an operator's edit left the field out.
    public string Reason { get; init => field = value ?? string.Empty; } = string.Empty;

    /// <summary>The figures that decided it, if a judgement did.</summary>
    public string? Figures { get; init; }

    /// <summary>The gateway (or "operator") that made it.</summary>
    public string? By { get; init; }
}
