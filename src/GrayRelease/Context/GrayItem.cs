namespace GrayRelease;

/// <summary>
/// A value queued together with the gray status and lane of the code that queued it, so whoever takes it out later
/// (a hosted service, another thread) works in that context. Made by <see cref="GrayItem.Capture{T}(T)"/>.
/// </summary>
/// <typeparam name="T">The queued value.</typeparam>
public readonly struct GrayItem<T>
{
    /// <summary>Pairs <paramref name="value"/> with a context captured earlier.</summary>
    public GrayItem(T value, GraySnapshot context)
    {
        Value = value;
        Context = context;
    }

    /// <summary>The queued value.</summary>
    public T Value { get; }

    /// <summary>The gray status and lane of the code that queued the value.</summary>
    public GraySnapshot Context { get; }

    /// <summary>Makes <see cref="Context"/> current until the returned scope is disposed, whatever is current now.</summary>
    public GrayScope Restore() => Context.Restore();
}

/// <summary>Creates <see cref="GrayItem{T}"/> values.</summary>
public static class GrayItem
{
    /// <summary>Pairs <paramref name="value"/> with the current gray status and lane (none, when the flow is untagged).</summary>
    public static GrayItem<T> Capture<T>(T value) => new(value, GrayContext.Capture());
}
