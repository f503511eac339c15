namespace GrayRelease.Rollouts;

/// <summary>What one interval's judgement says.</summary>
internal enum VerdictOutcome
{
    /// <summary>Not enough requests on a side: neither advances nor fails.</summary>
    Inconclusive,

    /// <summary>Gray is not worse than prod on every enabled check.</summary>
    Pass,

    /// <summary>Gray is worse than prod on a check, significantly and beyond the tolerance.</summary>
    Fail,
}
