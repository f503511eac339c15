namespace GrayRelease.Rollouts;

/// <summary>An operator's command to a rollout.</summary>
internal enum RolloutCommand
{
    Pause,
    Resume,
    Abort,
    Promote,
}

/// <summary>What became of a command: done, refused (with why), or Nacos could not be reached.</summary>
internal enum RolloutCommandOutcome
{
    Done,
    NoRollout,
    NotAllowed,
    Conflict,
    Unreachable,
}

internal sealed record RolloutCommandResult(RolloutCommandOutcome Outcome, string Message);
