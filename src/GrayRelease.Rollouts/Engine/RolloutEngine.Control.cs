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
            (RolloutCommand.Promote, RolloutStatus.Progressing or RolloutStatus.Paused or RolloutStatus.RolledBack) => (RolloutStatus.Promoted, options.EffectiveSteps.Count - 1, null),
            _ => (state.Status, step, $"Cannot {command.ToString().ToUpperInvariant()} a rollout that is {state.Status}."),
        };
    }
}
