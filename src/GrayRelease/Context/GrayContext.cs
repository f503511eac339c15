namespace GrayRelease;

/// <summary>
/// The gray status of the current logical flow. Backed by <see cref="AsyncLocal{T}"/>, so it follows
/// <c>await</c>, <c>Task.Run</c> and continuations of the request that set it, and never leaks into other requests.
/// </summary>
public static class GrayContext
{
    private static readonly AsyncLocal<GrayStatus?> CurrentStatus = new();

    /// <summary>The gray status of the current flow, or <see langword="null"/> when the flow is untagged.</summary>
    public static GrayStatus? Current => CurrentStatus.Value;

    /// <summary>Sets the status for the current flow until the returned scope is disposed, then restores the previous one.</summary>
    public static GrayScope Begin(GrayStatus status) => Set(status);

    /// <summary>Clears the status for the current flow until the returned scope is disposed (work that must not inherit the tag).</summary>
    public static GrayScope Suppress() => Set(null);

    /// <summary>Captures the current status, to restore it later in work that outlives the request (a queue, a timer, a hosted service).</summary>
    public static GraySnapshot Capture() => new(CurrentStatus.Value);

    /// <summary>Runs <paramref name="work"/> with no gray status, whatever the caller's status is.</summary>
    public static Task RunUntagged(Func<Task> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        using (Suppress())
        {
            // Task.Run copies the (now empty) context into the new work; the caller's scope is restored on return.
            return Task.Run(work);
        }
    }

    internal static GrayScope Set(GrayStatus? status)
    {
        var previous = CurrentStatus.Value;
        CurrentStatus.Value = status;
        return new GrayScope(previous);
    }

    internal static void Restore(GrayStatus? previous) => CurrentStatus.Value = previous;
}

/// <summary>Restores the previous gray status when disposed. Returned by <see cref="GrayContext.Begin"/>.</summary>
public readonly struct GrayScope : IDisposable
{
    private readonly GrayStatus? _previous;

    internal GrayScope(GrayStatus? previous) => _previous = previous;

    /// <summary>Restores the status that was current when the scope began.</summary>
    public void Dispose() => GrayContext.Restore(_previous);
}

/// <summary>A gray status captured by <see cref="GrayContext.Capture"/>, to be restored in other work.</summary>
public readonly record struct GraySnapshot(GrayStatus? Status)
{
    /// <summary>Makes the captured status current until the returned scope is disposed.</summary>
    public GrayScope Restore() => GrayContext.Set(Status);
}
