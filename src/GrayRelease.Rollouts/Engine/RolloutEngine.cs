using System.Globalization;
using System.Text.Json;
using GrayRelease.Nacos;
using GrayRelease.Nacos.Configuration;
using GrayRelease.Yarp;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrayRelease.Rollouts;

/// <summary>
/// Runs the rollout on every gateway: follows the state dataId (config listener, plus a periodic read), applies its
/// percentage, and, on the one gateway holding the lease, judges each interval and writes the next state with
/// compare-and-set on the md5 it read. Nacos unreachable: nothing is judged or written, the percentage stays.
/// </summary>
internal sealed partial class RolloutEngine : IHostedService, IRolloutStatus, IAsyncDisposable
{
    /// <summary>md5 of "": never the md5 of a real document, so a create refuses to overwrite one written meanwhile.</summary>
    internal const string AbsentMd5 = "d41d8cd98f00b204e9800998ecf8427e";

    private readonly IOptionsMonitor<RolloutOptions> _options;
    private readonly IOptionsMonitor<GrayReleaseOptions> _versions;
    private readonly IDisposable? _versionsChanged;
    private readonly IOptionsMonitor<GrayGatewayOptions> _gateway;
    private readonly TrafficObserver _observer;
    private readonly INacosConfigPublisher _nacos;
    private readonly RolloutPercentage _percentage;
    private readonly RolloutTelemetry _telemetry;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _tickGate = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private Task? _watch;

    // Followed state (under _tickGate).
    private RolloutStateDocument? _state;
    private string? _stateMd5;
    private bool _unreachable;
    private bool _stateInvalid;
    private bool _warnedGatewayDisabled;

    // Lease (under _tickGate).
    private string? _leaseHolder;
    private string? _observedLeaseMd5;
    private long _observedLeaseSince;
    private bool _holdsLease;
    private long _lastRenewStart;

    // The interval being observed (leader only).
    private long _intervalStart;
    private Dictionary<SeriesKey, SeriesCounts>? _baseline;
    private string? _baselineFor;

    private volatile RolloutSnapshot _snapshot = new();

    public RolloutEngine(
        IOptionsMonitor<RolloutOptions> options,
        IOptionsMonitor<GrayReleaseOptions> versions,
        IOptionsMonitor<GrayGatewayOptions> gateway,
        TrafficObserver observer,
        INacosConfigPublisher nacos,
        RolloutPercentage percentage,
        RolloutTelemetry telemetry,
        TimeProvider time,
        ILogger<RolloutEngine> logger)
    {
        _options = options;
        _versions = versions;
        _gateway = gateway;
        _observer = observer;
        _nacos = nacos;
        _percentage = percentage;
        _telemetry = telemetry;
        _time = time;
        _logger = logger;
        InstanceId = string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");

        // At once, not at the next tick: a new gray version must not inherit the percentage the previous one earned.
        _versionsChanged = versions.OnChange(_ => ApplyPercentage(_options.CurrentValue));
    }

    /// <summary>This gateway's name in the lease and the history.</summary>
    public string InstanceId { get; internal set; }

    /// <summary>Tests that simulate a crash turn this off: the lease is then left to expire.</summary>
    internal bool ReleaseLeaseOnStop { get; set; } = true;

    internal bool IsLeader => _holdsLease;

    public RolloutSnapshot GetSnapshot() => _snapshot;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        using (ExecutionContext.SuppressFlow())
        {
            _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
            _watch = Task.Run(() => WatchAsync(_stop.Token), CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var task in new[] { _loop, _watch })
        {
            if (task is not null)
            {
                // The loops catch their own faults; this only waits for them to end.
                await task.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        if (ReleaseLeaseOnStop && _holdsLease)
        {
            await ReleaseLeaseAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await StopAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or NacosException or HttpRequestException)
        {
            // Disposal never rethrows: the lease then expires by itself.
        }

        _versionsChanged?.Dispose();
        _stop.Dispose();
        _tickGate.Dispose();
    }

    /// <summary>Runs one tick now (tests, and the watch loop after a change).</summary>
    internal async Task TickAsync(CancellationToken cancellationToken)
    {
        await _tickGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await TickCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _tickGate.Release();
        }
    }

    private static TimeSpan TickPeriod(RolloutOptions options)
    {
        var period = TimeSpan.FromTicks(Math.Min(options.Interval.Ticks / 4, options.LeaseDuration.Ticks / 6));
        return period < TimeSpan.FromMilliseconds(10) ? TimeSpan.FromMilliseconds(10) : period > TimeSpan.FromSeconds(5) ? TimeSpan.FromSeconds(5) : period;
    }

    private async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await TickAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.LoopFailed(_logger, ex);
            }

            try
            {
                await Task.Delay(TickPeriod(_options.CurrentValue), _time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Holds a config listener on the state dataId, so a change (another gateway's step, an operator's edit) is followed at once.</summary>
    private async Task WatchAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var options = _options.CurrentValue;
            try
            {
                if (!options.Enabled)
                {
                    await Task.Delay(TickPeriod(options), _time, stop).ConfigureAwait(false);
                    continue;
                }

                await _nacos.WaitForChangeAsync(options.StateDataId, options.Group, Volatile.Read(ref _stateMd5) ?? string.Empty, stop).ConfigureAwait(false);
                await TickAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.WatchFailed(_logger, ex.Message);
                try
                {
                    await Task.Delay(TickPeriod(options), _time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task TickCoreAsync(CancellationToken cancellationToken)
    {
        var options = _options.CurrentValue;
        if (!options.Enabled)
        {
            if (_holdsLease)
            {
                await ReleaseLeaseAsync(cancellationToken).ConfigureAwait(false);
            }

            _percentage.Set(null);
            _state = null;
            _stateMd5 = null;
            Publish(options);
            return;
        }

        if (!_gateway.CurrentValue.Enabled && !_warnedGatewayDisabled)
        {
            _warnedGatewayDisabled = true;
            Log.GatewayDisabled(_logger);
        }

        NacosConfigItem? item;
        try
        {
            item = await _nacos.GetAsync(options.StateDataId, options.Group, cancellationToken).ConfigureAwait(false);
            await UpdateLeaseAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NacosException or HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            if (!_unreachable)
            {
                _unreachable = true;
                Log.NacosUnreachable(_logger, ex.Message, _percentage.Current);
            }

            // Never advance blind: the interval under way is void, and leadership lapses on its own (no renewal).
            _baseline = null;
            Publish(options);
            return;
        }

        if (_unreachable)
        {
            _unreachable = false;
            _baseline = null;
            Log.NacosReachableAgain(_logger);
        }

        Follow(item, options);

        var versions = _versions.CurrentValue;
        var gray = versions.GrayVersion;
        var prod = versions.ProdVersion;
        // An operator's edit that does not parse is left for the operator to fix, not replaced by a new rollout.
        if (_holdsLease && !_stateInvalid && (_state is null || !string.Equals(_state.GrayVersion, gray, StringComparison.Ordinal)))
        {
            await StartRolloutAsync(options, gray, prod, cancellationToken).ConfigureAwait(false);
        }
        else if (_holdsLease && _state is { Status: RolloutStatus.Progressing })
        {
            await JudgeIfDueAsync(options, versions, cancellationToken).ConfigureAwait(false);
        }

        Publish(options);
    }

    /// <summary>Takes in what Nacos holds: a new md5 is a new state (its own interval), an unreadable one is ignored.</summary>
    private void Follow(NacosConfigItem? item, RolloutOptions options)
    {
        if (item is null)
        {
            _state = null;
            _stateMd5 = null;
            _stateInvalid = false;
            ApplyPercentage(options);
            return;
        }

        if (string.Equals(item.Md5, _stateMd5, StringComparison.Ordinal))
        {
            ApplyPercentage(options);
            return;
        }

        RolloutStateDocument? state;
        try
        {
            state = JsonSerializer.Deserialize(item.Content, RolloutJsonContext.Default.RolloutStateDocument);
        }
        catch (JsonException ex)
        {
            Log.StateInvalid(_logger, options.StateDataId, ex.Message);
            state = null;
        }

        Volatile.Write(ref _stateMd5, item.Md5);
        _stateInvalid = state is null;
        if (state is null)
        {
            return;
        }

        _state = state;
        ApplyPercentage(options);
    }

    private void ApplyPercentage(RolloutOptions options)
    {
        var state = _state;
        double? percentage = state is null
            ? null
            : !string.Equals(state.GrayVersion, _versions.CurrentValue.GrayVersion, StringComparison.Ordinal)
                // The state is about another gray version (the configured one changed and the leader has not started its
                // rollout yet, or a follower has not seen it): the new version is unjudged, so it gets no share of the
                // traffic by percentage (testers still reach it by the other rules) until its rollout's first step.
                ? 0
                : PercentageOf(state, options);
        if (_percentage.Set(percentage))
        {
            Log.PercentageApplied(_logger, percentage, state?.Status, state?.Step ?? 0);
        }
    }

    internal static double PercentageOf(RolloutStateDocument state, RolloutOptions options) => state.Status switch
    {
        RolloutStatus.RolledBack => 0,
        RolloutStatus.Promoted => 100,
        _ => options.EffectiveSteps[StepIndex(state.Step, options)],
    };

    private static int StepIndex(int step, RolloutOptions options) => Math.Clamp(step, 0, options.EffectiveSteps.Count - 1);

    /// <summary>The leader starts a rollout when there is no state, or the configured gray version is not the one in it.</summary>
    private async Task StartRolloutAsync(RolloutOptions options, string? gray, string? prod, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(gray) || string.IsNullOrEmpty(prod) || string.Equals(gray, prod, StringComparison.Ordinal))
        {
            if (_state is null || !string.Equals(_state.GrayVersion, gray, StringComparison.Ordinal))
            {
                Log.NotInRelease(_logger, gray, prod);
            }

            return;
        }

        var previous = _state;
        var next = new RolloutStateDocument
        {
            GrayVersion = gray,
            ProdVersion = prod,
            Status = RolloutStatus.Progressing,
            Step = 0,
            Revision = (previous?.Revision ?? 0) + 1,
        };
        var reason = previous is null
            ? string.Create(CultureInfo.InvariantCulture, $"rollout of {gray} over {prod} started")
            : string.Create(CultureInfo.InvariantCulture, $"gray version changed from {previous.GrayVersion} to {gray}: a new rollout starts");
        await WriteTransitionAsync(options, previous ?? next, next, RolloutStatus.Progressing, 0, reason, null, InstanceId, cancellationToken).ConfigureAwait(false);
    }

    private async Task JudgeIfDueAsync(RolloutOptions options, GrayReleaseOptions versions, CancellationToken cancellationToken)
    {
        var state = _state!;
        if (_baseline is null || !string.Equals(_baselineFor, _stateMd5, StringComparison.Ordinal))
        {
            // A new step, status or leader: this interval starts now, with what was counted so far as its baseline.
            StartInterval();
            return;
        }

        if (_time.GetElapsedTime(_intervalStart) < options.Interval)
        {
            return;
        }

        var window = Window(_baseline);
        var verdict = RolloutJudge.Judge(window, versions, options);
        if (PercentageOf(state, options) >= 100)
        {
            // Put at 100 % by hand: there is no prod traffic left to compare with, so the step can only promote.
            verdict = verdict with { Outcome = VerdictOutcome.Pass, Reason = "at 100 % gray no prod traffic is left to compare with" };
        }

        var figures = verdict.Figures();
        var step = StepIndex(state.Step, options);
        var percentage = PercentageOf(state, options);
        var outcome = OutcomeName(verdict.Outcome);
        Log.IntervalJudged(_logger, step, percentage, outcome, verdict.Reason, figures);
        _telemetry.Interval(outcome);

        var next = state.Clone();
        next.Revision++;
        next.LastVerdict = new RolloutVerdictDocument { Outcome = outcome, Reason = verdict.Reason, Figures = figures, At = _time.GetUtcNow() };
        // The step to 100 % is the promotion itself: at 100 % no prod traffic is left to compare the canary with.
        var steps = options.EffectiveSteps;
        var promotes = step + 1 >= steps.Count || steps[step + 1] >= 100;
        switch (verdict.Outcome)
        {
            case VerdictOutcome.Pass when !promotes:
                next.FailedIntervals = 0;
                await WriteTransitionAsync(options, state, next, RolloutStatus.Progressing, step + 1, "interval passed: " + verdict.Reason, figures, InstanceId, cancellationToken).ConfigureAwait(false);
                break;
            case VerdictOutcome.Pass:
                next.FailedIntervals = 0;
                if (options.Promotion == RolloutPromotion.PublishProdVersion
                    && !await PublishProdVersionAsync(options, state.GrayVersion, cancellationToken).ConfigureAwait(false))
                {
                    await WriteAsync(options, next, "promotion retry", cancellationToken).ConfigureAwait(false);
                    break;
                }

                await WriteTransitionAsync(options, state, next, RolloutStatus.Promoted, steps.Count - 1, "last step below 100 % passed: promoted", figures, InstanceId, cancellationToken).ConfigureAwait(false);
                break;
            case VerdictOutcome.Fail:
                next.FailedIntervals = state.FailedIntervals + 1;
                if (next.FailedIntervals >= options.FailureThreshold)
                {
                    var reason = string.Create(CultureInfo.InvariantCulture, $"{next.FailedIntervals} consecutive failed interval(s), threshold {options.FailureThreshold}: rolled back; last: {verdict.Reason}");
                    await WriteTransitionAsync(options, state, next, RolloutStatus.RolledBack, step, reason, figures, InstanceId, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await WriteAsync(options, next, "failed interval", cancellationToken).ConfigureAwait(false);
                }

                break;
            default:
                await WriteAsync(options, next, "inconclusive interval", cancellationToken).ConfigureAwait(false);
                break;
        }

        StartInterval();
    }

    private static string OutcomeName(VerdictOutcome outcome) => outcome switch
    {
        VerdictOutcome.Pass => "Pass",
        VerdictOutcome.Fail => "Fail",
        _ => "Inconclusive",
    };

    private void StartInterval()
    {
        _baseline = _observer.ReadAll();
        _baselineFor = _stateMd5;
        _intervalStart = _time.GetTimestamp();
    }

    private Dictionary<SeriesKey, SeriesCounts> Window(Dictionary<SeriesKey, SeriesCounts> baseline)
    {
        var now = _observer.ReadAll();
        var window = new Dictionary<SeriesKey, SeriesCounts>(now.Count);
        foreach (var (key, counts) in now)
        {
            window[key] = baseline.TryGetValue(key, out var before) ? counts.Minus(before) : counts;
        }

        return window;
    }

    /// <summary>Writes <paramref name="next"/> moved to (<paramref name="to"/>, <paramref name="toStep"/>) with a history entry; logs and emits it once written.</summary>
    internal async Task<bool> WriteTransitionAsync(
        RolloutOptions options,
        RolloutStateDocument from,
        RolloutStateDocument next,
        RolloutStatus to,
        int toStep,
        string reason,
        string? figures,
        string by,
        CancellationToken cancellationToken)
    {
        var fromStatus = from.Status;
        var fromStep = from.Step;
        next.Status = to;
        next.Step = toStep;
        if (to != RolloutStatus.Progressing || toStep != fromStep)
        {
            next.FailedIntervals = to == RolloutStatus.RolledBack ? next.FailedIntervals : 0;
        }

        next.Percentage = PercentageOf(next, options);
        var entry = new RolloutTransition
        {
            At = _time.GetUtcNow(),
            From = fromStatus,
            To = to,
            FromStep = fromStep,
            ToStep = toStep,
            Percentage = next.Percentage,
            Reason = reason,
            Figures = figures,
            By = by,
        };
        next.AddHistory(entry);
        if (!await WriteAsync(options, next, reason, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        Log.Transition(_logger, next.GrayVersion, next.ProdVersion, fromStatus, fromStep, to, toStep, next.Percentage, by, reason, figures ?? "none");
        _telemetry.Transition(entry, next.GrayVersion);
        return true;
    }

    /// <summary>Compare-and-set write of the state on the md5 last read; on success it is the followed state at once.</summary>
    private async Task<bool> WriteAsync(RolloutOptions options, RolloutStateDocument next, string what, CancellationToken cancellationToken)
    {
        next.UpdatedAt = _time.GetUtcNow();
        next.UpdatedBy = InstanceId;
        next.Percentage = PercentageOf(next, options);
        var content = JsonSerializer.Serialize(next, RolloutJsonContext.Default.RolloutStateDocument);
        if (!await _nacos.PublishAsync(options.StateDataId, options.Group, content, _stateMd5 ?? AbsentMd5, "json", cancellationToken).ConfigureAwait(false))
        {
            Log.StateWriteConflict(_logger, what);
            Volatile.Write(ref _stateMd5, null);
            return false;
        }

        _state = next;
        Volatile.Write(ref _stateMd5, new NacosConfigItem(content).Md5);
        ApplyPercentage(options);
        return true;
    }

    /// <summary>Promotion: <c>GrayRelease:ProdVersion</c> := the gray version in the JSON dataId the gateway and services read.</summary>
    private async Task<bool> PublishProdVersionAsync(RolloutOptions options, string grayVersion, CancellationToken cancellationToken)
    {
        var dataId = options.PromotionDataId!;
        try
        {
            var item = await _nacos.GetAsync(dataId, options.Group, cancellationToken).ConfigureAwait(false);
            var root = item is null ? new System.Text.Json.Nodes.JsonObject() : System.Text.Json.Nodes.JsonNode.Parse(item.Content) as System.Text.Json.Nodes.JsonObject;
            if (root is null)
            {
                Log.PromotionPublishFailed(_logger, grayVersion, dataId, "its content is not a JSON object");
                return false;
            }

            if (root["GrayRelease"] is not System.Text.Json.Nodes.JsonObject section)
            {
                section = [];
                root["GrayRelease"] = section;
            }

            section["ProdVersion"] = grayVersion;
            var written = await _nacos.PublishAsync(dataId, options.Group, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), item?.Md5 ?? AbsentMd5, "json", cancellationToken).ConfigureAwait(false);
            if (!written)
            {
                Log.PromotionPublishFailed(_logger, grayVersion, dataId, "it changed while being written");
                return false;
            }

            Log.ProdVersionPublished(_logger, grayVersion, dataId);
            return true;
        }
        catch (Exception ex) when (ex is NacosException or JsonException or HttpRequestException)
        {
            Log.PromotionPublishFailed(_logger, grayVersion, dataId, ex.Message);
            return false;
        }
    }

    private void Publish(RolloutOptions options)
    {
        var state = _state;
        var leader = _holdsLease && !_unreachable && _time.GetElapsedTime(_lastRenewStart) < options.LeaseDuration / 2;
        DateTimeOffset? next = null;
        if (leader && state is { Status: RolloutStatus.Progressing } && _baseline is not null)
        {
            var remaining = options.Interval - _time.GetElapsedTime(_intervalStart);
            next = _time.GetUtcNow() + (remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
        }

        _snapshot = new RolloutSnapshot
        {
            Enabled = options.Enabled,
            Status = state?.Status,
            NacosUnreachable = _unreachable,
            Step = state is null ? 0 : StepIndex(state.Step, options),
            Steps = [.. options.EffectiveSteps],
            Percentage = _percentage.Current,
            GrayVersion = state?.GrayVersion,
            ProdVersion = state?.ProdVersion,
            FailedIntervals = state?.FailedIntervals ?? 0,
            IsLeader = leader,
            Leader = _leaseHolder,
            InstanceId = InstanceId,
            NextDecisionAt = next,
            LastVerdict = state?.LastVerdict?.Outcome,
            LastVerdictReason = state?.LastVerdict?.Reason,
            LastVerdictFigures = state?.LastVerdict?.Figures,
            History = state is null ? [] : [.. state.History],
        };
    }
}
