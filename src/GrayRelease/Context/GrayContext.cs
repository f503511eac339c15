using GrayRelease.Routing;

namespace GrayRelease;

/// <summary>
/// The gray status of the current logical flow. Backed by <see cref="AsyncLocal{T}"/>, so it follows
/// <c>await</c>, <c>Task.Run</c> and continuations of the request that set it, and never leaks into other requests.
/// </summary>
public static class GrayContext
{
    private static readonly AsyncLocal<GrayFrame?> CurrentFrame = new();

    /// <summary>The gray status of the current flow, or <see langword="null"/> when the flow is untagged.</summary>
    public static GrayStatus? Current => CurrentFrame.Value?.Status;

    /// <summary>The lane of the current flow, or <see langword="null"/> when it has none (the baseline).</summary>
    public static string? CurrentLane => CurrentFrame.Value?.Lane;

    /// <summary>Sets the status for the current flow until the returned scope is disposed, then restores the previous one; the lane is kept.</summary>
    public static GrayScope Begin(GrayStatus status)
    {
        var current = CurrentFrame.Value;
        return Set(status, current?.Lane, current?.LaneKey);
    }

    /// <summary>Sets the lane for the current flow until the returned scope is disposed, then restores the previous one; the status is kept.</summary>
    public static GrayScope BeginLane(string lane)
    {
        ArgumentException.ThrowIfNullOrEmpty(lane);
        return Set(Current, lane);
    }

    /// <summary>Clears the status and the lane for the current flow until the returned scope is disposed (work that must not inherit the tag).</summary>
    public static GrayScope Suppress() => Set(null, null);

    /// <summary>Captures the current status and lane, to restore them later in work that outlives the request (a queue, a timer, a hosted service).</summary>
    public static GraySnapshot Capture() => new(Current) { Lane = CurrentLane };

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

    /// <summary>The innermost begun scope, or <see langword="null"/>: status, lane and lane key in one read of the async local.</summary>
    internal static GrayFrame? CurrentFrameValue => CurrentFrame.Value;

    // The lane is interned here, once per scope (once per request), so each pick in it indexes an array by the key.
    internal static GrayScope Set(GrayStatus? status, string? lane = null) =>
        Set(status, lane, lane is null ? null : LaneRegistry.Find(lane));

    /// <summary>Sets the status and a lane already interned (the gateway's lanes come from configuration).</summary>
    internal static GrayScope SetInLane(GrayStatus? status, LaneKey lane) => Set(status, lane.Name, lane);

    private static GrayScope Set(GrayStatus? status, string? lane, LaneKey? laneKey)
    {
        var parent = CurrentFrame.Value;
        GrayFrame frame;
        if (parent is null && lane is null)
        {
            frame = GrayFrame.Root(status);
        }
        else if (parent is null && laneKey is not null)
        {
            frame = laneKey.Root(status);
        }
        else
        {
            frame = new GrayFrame(status, parent, lane, laneKey);
        }

        CurrentFrame.Value = frame;
        return new GrayScope(frame);
    }

    /// <summary>
    /// Makes a frame prepared once (the gateway keeps one per decision, lane names from configuration) current: shared as
    /// it is when nothing is current, so a request allocates no frame, even in a lane; else copied under the current frame,
    /// keeping its lane when the prepared frame has none, as <see cref="Begin"/> does.
    /// </summary>
    internal static GrayScope Enter(GrayFrame prepared)
    {
        var parent = CurrentFrame.Value;
        var frame = parent is null
            ? prepared
            : prepared.Lane is null
                ? new GrayFrame(prepared.Status, parent, parent.Lane, parent.LaneKey)
                : new GrayFrame(prepared.Status, parent, prepared.Lane, prepared.LaneKey);
        CurrentFrame.Value = frame;
        return new GrayScope(frame);
    }

    /// <summary>
    /// Makes the shared root frame <paramref name="prepared"/> current by switching to an execution context made once
    /// for this caller's context, instead of writing the async local (which makes a new context every time). Used by the
    /// gateway, whose requests mostly start in the same context (no activity, no log scope): the second time in a row a
    /// frame sees the same caller, the context "caller + frame" is made and kept, and from then on entering allocates
    /// nothing. Returns <see langword="false"/> (nothing changed) when it cannot: a frame is current already, or the
    /// caller is not the one remembered. The caller restores its own context afterwards (<see cref="ExecutionContext.Restore"/>).
    /// </summary>
    internal static bool TryEnterReused(GrayFrame prepared, ExecutionContext caller)
    {
        if (prepared.Parent is not null || CurrentFrame.Value is not null)
        {
            return false;
        }

        var reused = prepared.Reused;
        if (reused is null || !ReferenceEquals(reused.Caller, caller))
        {
            if (!ReferenceEquals(prepared.LastCaller, caller))
            {
                // Seen once: remembered only (a reference write). Callers that differ every time never pay for a context.
                prepared.LastCaller = caller;
                return false;
            }

            reused = new ReusedContext(caller, Derive(caller, prepared));
            prepared.Reused = reused;
        }

        ExecutionContext.Restore(reused.Context);
        return true;
    }

    private static ExecutionContext Derive(ExecutionContext caller, GrayFrame frame)
    {
        ExecutionContext? derived = null;
        ExecutionContext.Run(
            caller,
            _ =>
            {
                CurrentFrame.Value = frame;
                derived = ExecutionContext.Capture();
            },
            null);
        return derived!;
    }

    /// <summary>
    /// Ends <paramref name="frame"/> and every scope begun inside it, restoring what was current when it began. A frame
    /// that is no longer on the current chain (ended already, or disposed twice) changes nothing: restoring a value
    /// saved by position, as a plain "previous" field does, brings back a status whose scope has ended.
    /// </summary>
    internal static void End(GrayFrame frame)
    {
        for (var current = CurrentFrame.Value; current is not null; current = current.Parent)
        {
            if (ReferenceEquals(current, frame))
            {
                CurrentFrame.Value = frame.Parent;
                return;
            }
        }
    }
}

/// <summary>One begun scope: its status, its lane and the scope that was current when it began.</summary>
internal sealed class GrayFrame
{
    // Scopes begun with nothing current (every request's own) share one frame per status, so they allocate nothing.
    private static readonly GrayFrame[] Roots = [new(null, null), new(GrayStatus.All, null), new(GrayStatus.Prod, null), new(GrayStatus.Gray, null)];

    public GrayFrame(GrayStatus? status, GrayFrame? parent, string? lane = null, LaneKey? laneKey = null)
    {
        Status = status;
        Parent = parent;
        Lane = lane;
        LaneKey = laneKey;
    }

    internal GrayFrame(GrayStatus? status, GrayFrame? parent, LaneKey laneKey)
        : this(status, parent, laneKey.Name, laneKey)
    {
    }

    public GrayStatus? Status { get; }

    public string? Lane { get; }

    /// <summary>The lane's key when the lane was known to <see cref="LaneRegistry"/> as the scope began.</summary>
    public LaneKey? LaneKey { get; }

    public GrayFrame? Parent { get; }

    /// <summary>The caller's context last seen by <see cref="GrayContext.TryEnterReused"/> (shared root frames only).</summary>
    internal ExecutionContext? LastCaller { get; set; }

    /// <summary>The context "caller + this frame" made by <see cref="GrayContext.TryEnterReused"/>, with its caller.</summary>
    internal ReusedContext? Reused { get; set; }

    /// <summary>A frame with nothing under it, for <see cref="GrayContext.Enter"/>: the shared one when it has no lane.</summary>
    public static GrayFrame Prepare(GrayStatus? status, string? lane) => lane is null ? Root(status) : LaneRegistry.Intern(lane)?.Root(status) ?? new GrayFrame(status, null, lane);

    public static GrayFrame Root(GrayStatus? status) => status switch
    {
        null => Roots[0],
        { } known when (uint)known <= (uint)GrayStatus.Gray => Roots[(int)known + 1],
        _ => new GrayFrame(status, null),
    };
}

/// <summary>Restores the previous gray status when disposed. Returned by <see cref="GrayContext.Begin"/>.</summary>
public readonly struct GrayScope : IDisposable
{
    private readonly GrayFrame? _frame;

    internal GrayScope(GrayFrame frame) => _frame = frame;

    /// <summary>
    /// Restores the status that was current when the scope began, ending any scope begun inside it that is still open;
    /// disposing a scope that has already ended does nothing.
    /// </summary>
    public void Dispose()
    {
        if (_frame is not null)
        {
            GrayContext.End(_frame);
        }
    }
}

/// <summary>A gray status (and lane) captured by <see cref="GrayContext.Capture"/>, to be restored in other work.</summary>
public readonly record struct GraySnapshot(GrayStatus? Status)
{
    /// <summary>The captured lane, or <see langword="null"/> when the flow had none.</summary>
    public string? Lane { get; init; }

    /// <summary>Makes the captured status and lane current until the returned scope is disposed.</summary>
    public GrayScope Restore() => GrayContext.Set(Status, Lane);
}

/// <summary>An execution context made from <see cref="Caller"/> with one gray frame current; immutable, so shared.</summary>
internal sealed record ReusedContext(ExecutionContext Caller, ExecutionContext Context);
