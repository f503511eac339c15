namespace GrayRelease.Rollouts;

/// <summary>
/// A progressive rollout of the gray version, bound from <c>GrayRelease:Gateway:Rollout</c> (live reload): the sticky
/// percentage steps, how each interval is judged, and what happens at the end. Progress lives in Nacos.
/// </summary>
public sealed class RolloutOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "GrayRelease:Gateway:Rollout";

    internal static readonly double[] DefaultSteps = [1, 5, 25, 50, 100];

    /// <summary>Whether the gateway runs the rollout (steps the percentage, judges, promotes or rolls back).</summary>
    public bool Enabled { get; set; }

    /// <summary>Sticky percentages of users sent gray, one per step, increasing, the last 100. Empty: 1, 5, 25, 50, 100.</summary>
    public List<double> Steps { get; set; } = [];

    /// <summary>How long each step runs before it is judged (and how often a failing step is judged again).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Requests needed on each side (gray and prod) in an interval; fewer make the interval inconclusive.</summary>
    public int MinRequestsPerSide { get; set; } = 100;

    /// <summary>Consecutive failed intervals that roll the release back.</summary>
    public int FailureThreshold { get; set; } = 2;

    /// <summary>What promotion does after the last step passes.</summary>
    public RolloutPromotion Promotion { get; set; } = RolloutPromotion.Stop;

    /// <summary>
    /// The JSON dataId (in <see cref="Group"/>) that holds <c>GrayRelease:ProdVersion</c> for the gateway and the
    /// services; <see cref="RolloutPromotion.PublishProdVersion"/> writes the gray version there.
    /// </summary>
    public string? PromotionDataId { get; set; }

    /// <summary>The checks each interval is judged by.</summary>
    public RolloutChecksOptions Checks { get; set; } = new();

    /// <summary>Nacos dataId of the rollout's state (step, status, history), followed by every gateway.</summary>
    public string StateDataId { get; set; } = "grayrelease-rollout.json";

    /// <summary>Nacos dataId of the leader lease: the one gateway that advances the rollout holds it.</summary>
    public string LeaseDataId { get; set; } = "grayrelease-rollout-lease.json";

    /// <summary>Nacos group of the state and lease dataIds.</summary>
    public string Group { get; set; } = "DEFAULT_GROUP";

    /// <summary>
    /// How long a lease not renewed stays held: another gateway takes over after seeing it unchanged this long (the
    /// holder renews every third of it and stops acting after half of it without a renewal).
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(15);

    internal IReadOnlyList<double> EffectiveSteps => Steps.Count == 0 ? DefaultSteps : Steps;
}

/// <summary>What promotion does at the end of a rollout.</summary>
public enum RolloutPromotion
{
    /// <summary>Stay at 100 % gray; an operator changes <c>ProdVersion</c> later.</summary>
    Stop,

    /// <summary>Also publish <c>GrayRelease:ProdVersion</c> := the gray version into <see cref="RolloutOptions.PromotionDataId"/>.</summary>
    PublishProdVersion,
}

/// <summary>How an interval is judged: gray against prod, one-sided tests at a confidence, with practical tolerances.</summary>
public sealed class RolloutChecksOptions
{
    /// <summary>Compare error rates (5xx and transport errors): z-test, or Fisher's exact test on small counts.</summary>
    public bool ErrorRate { get; set; } = true;

    /// <summary>Compare latency: Mann–Whitney U on the latency histograms, failing only if p99 is also worse by <see cref="LatencyP99Tolerance"/>.</summary>
    public bool Latency { get; set; } = true;

    /// <summary>Confidence of each test (0.5–0.9999): 0.99 fails an identical canary in about 1 % of intervals per check at most.</summary>
    public double Confidence { get; set; } = 0.99;

    /// <summary>Absolute error-rate increase tolerated even when significant (0.01 = one percentage point).</summary>
    public double ErrorRateTolerance { get; set; } = 0.01;

    /// <summary>Ratio of gray p99 to prod p99 tolerated even when significant (1.2 = 20 % slower).</summary>
    public double LatencyP99Tolerance { get; set; } = 1.2;
}
