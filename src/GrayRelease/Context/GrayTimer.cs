namespace GrayRelease;

/// <summary>
/// Timers whose every tick runs in a gray context chosen by the caller. A plain <see cref="Timer"/> created inside a
/// request runs every later tick in that request's context (its tag, its Activity), long after the request ended.
/// </summary>
public static class GrayTimer
{
    /// <summary>
    /// Creates a timer that runs <paramref name="callback"/> in <paramref name="context"/> on every tick, whatever the
    /// context of the code creating it: <c>GrayContext.Capture()</c> to keep the creator's tag, <c>default</c> for
    /// untagged work. Nothing else of the creator's execution context (Activity, log scopes) flows into the ticks.
    /// </summary>
    /// <param name="context">The gray status and lane each tick runs in.</param>
    /// <param name="callback">The work of one tick; an exception it throws is not caught, as with <see cref="Timer"/>.</param>
    /// <param name="state">The value passed to <paramref name="callback"/>.</param>
    /// <param name="dueTime">The delay before the first tick (<see cref="Timeout.InfiniteTimeSpan"/>: not started).</param>
    /// <param name="period">The interval between ticks (<see cref="Timeout.InfiniteTimeSpan"/>: one tick).</param>
    /// <param name="timeProvider">The time source (<see cref="TimeProvider.System"/> when <see langword="null"/>).</param>
    public static ITimer Create(GraySnapshot context, TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var provider = timeProvider ?? TimeProvider.System;
        var tick = new Tick(context, callback, state);
        if (ExecutionContext.IsFlowSuppressed())
        {
            return provider.CreateTimer(Tick.Run, tick, dueTime, period);
        }

        using (ExecutionContext.SuppressFlow())
        {
            return provider.CreateTimer(Tick.Run, tick, dueTime, period);
        }
    }

    private sealed class Tick(GraySnapshot context, TimerCallback callback, object? state)
    {
        public static readonly TimerCallback Run = static tick => ((Tick)tick!).Invoke();

        // Restore sets the captured status and lane whatever is current, so a time source that runs ticks in its own
        // caller's flow (FakeTimeProvider.Advance) gives the same result as the system timer's empty context.
        private void Invoke()
        {
            using (context.Restore())
            {
                callback(state);
            }
        }
    }
}
