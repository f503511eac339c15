namespace GrayRelease.Rollouts;

/// <summary>Event ids of the package's log lines, in bands per area; stable, so alerts may rely on them.</summary>
internal static class RolloutEventIds
{
    // 800-899: the rollout engine (Log.cs).
    public const int Transition = 800;
    public const int IntervalJudged = 801;
    public const int LeaseAcquired = 802;
    public const int LeaseLost = 803;
    public const int LeaseReleased = 804;
    public const int NacosUnreachable = 805;
    public const int NacosReachableAgain = 806;
    public const int StateInvalid = 807;
    public const int StateWriteConflict = 808;
    public const int LoopFailed = 809;
    public const int PercentageApplied = 810;
    public const int PromotionPublishFailed = 811;
    public const int ProdVersionPublished = 812;
    public const int NotInRelease = 813;
    public const int WatchFailed = 814;
    public const int GatewayDisabled = 815;

    // 900-929: the operations page (Log.Dashboard.cs).
    public const int DashboardPostRejected = 900;
}
