using System.Text.Json;
using GrayRelease.Nacos;

namespace GrayRelease.Rollouts;

/// <summary>Pause, resume, abort, promote: any gateway applies them, with compare-and-set on the state it just read.</summary>
internal sealed partial class RolloutEngine
{
    private const int CommandAttempts = 3;

    public async Task<RolloutCommandResult> ExecuteAsync(RolloutCommand command, string by, CancellationToken cancellationToken)
    {
        var options = _options.CurrentValue;
        if (!options.Enabled)
        {
            return new(RolloutCommandOutcome.NoRollout, "GrayRelease:Gateway:Rollout:Enabled is false.");
        }

        await _tickGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (var attempt = 0; attempt < CommandAttempts; attempt++)
            {
                var item = await _nacos.GetAsync(options.StateDataId, options.Group, cancellationToken).ConfigureAwait(false);
                if (item is null)
                {
                    return new(RolloutCommandOutcome.NoRollout, $"No rollout state in Nacos ({options.StateDataId}, group {options.Group}).");
                }

                var state = JsonSerializer.Deserialize(item.Content, RolloutJsonContext.Default.RolloutStateDocument);
                if (state is null)
                {
                    return new(RolloutCommandOutcome.NoRollout, $"The rollout state {options.StateDataId} is empty.");
                }

                _state = state;
                Volatile.Write(ref _stateMd5, item.Md5);
                var (to, step, refusal) = Target(command, state, options);
                if (refusal is not null)
                {
                    return new(RolloutCommandOutcome.NotAllowed, refusal);
                }

                if (command == RolloutCommand.Promote && options.Promotion == RolloutPromotion.PublishProdVersion
                    && !await PublishProdVersionAsync(options, state.GrayVersion, cancellationToken).ConfigureAwait(false))
                {
                    return new(RolloutCommandOutcome.Conflict, $"Promotion could not publish GrayRelease:ProdVersion into {options.PromotionDataId}; see the log.");
                }

                var next = state.Clone();
                next.Revision++;
                var reason = $"{command.ToString().ToUpperInvariant()} by {by}";
                if (await WriteTransitionAsync(options, state, next, to, step, reason, null, by, cancellationToken).ConfigureAwait(false))
                {
                    Publish(options);
                    return new(RolloutCommandOutcome.Done, $"{state.Status} -> {to} at step {step}.");
                }
            }

            return new(RolloutCommandOutcome.Conflict, "The rollout state kept changing in Nacos; try again.");
        }
        catch (Exception ex) when (ex is NacosException or HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return new(RolloutCommandOutcome.Unreachable, "Nacos could not be reached: " + ex.Message);
        }
        catch (JsonException ex)
        {
            return new(RolloutCommandOutcome.NotAllowed, $"The rollout state {options.StateDataId} is not valid JSON: {ex.Message}");
        }
        finally
        {
            _tickGate.Release();
        }
    }

    private static (RolloutStatus To, int Step, string? Refusal) Target(RolloutCommand command, RolloutStateDocument state, RolloutOptions options)
    {
        var step = StepIndex(state.Step, options);
        return (command, state.Status) switch
        {
            (RolloutCommand.Pause, RolloutStatus.Progressing) => (RolloutStatus.Paused, step, null),
            (RolloutCommand.Resume, RolloutStatus.Paused) => (RolloutStatus.Progressing, step, null),
            (RolloutCommand.Abort, RolloutStatus.Progressing or RolloutStatus.Paused) => (RolloutStatus.RolledBack, step, null),
            // Not from RolledBack: the canary failed (or an operator aborted it); promoting it untried would send every
            // user to the version just judged bad. Argo Rollouts, likewise, keeps an aborted rollout aborted until it is
            // retried; here a new gray version (or the state deleted) starts a new rollout.
            (RolloutCommand.Promote, RolloutStatus.Progressing or RolloutStatus.Paused) => (RolloutStatus.Promoted, options.EffectiveSteps.Count - 1, null),
            _ => (state.Status, step, Refusal(command, state.Status, options)),
        };
    }

    private static string Refusal(RolloutCommand command, RolloutStatus status, RolloutOptions options)
    {
        var refused = $"Cannot {command.ToString().ToUpperInvariant()} a rollout that is {status}";
        return status switch
        {
            RolloutStatus.RolledBack => $"{refused}: a rolled-back release is not resumed or promoted in place. Publish a new gray version (GrayRelease:GrayVersion), or delete the state dataId {options.StateDataId} (group {options.Group}) to try this one again from the first step.",
            RolloutStatus.Promoted => $"{refused}: it is finished. A new gray version starts a new rollout.",
            RolloutStatus.Paused => $"{refused}; a paused rollout can be resumed, aborted or promoted.",
            _ => $"{refused}; a progressing rollout can be paused, aborted or promoted.",
        };
    }
}
