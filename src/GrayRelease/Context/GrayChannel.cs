using System.Threading.Channels;

namespace GrayRelease;

/// <summary>
/// Channels whose items carry the gray context of their writer: written with
/// <see cref="WriteWithGrayContextAsync{T}"/> (inside a request), read with <see cref="ReadAllWithGrayContextAsync{T}"/>
/// (in a hosted service), each item is handled with the status and lane of the request that queued it. A consumer loop
/// started by the host otherwise runs in the host's context, whoever wrote the item.
/// </summary>
public static class GrayChannel
{
    /// <summary>Creates an unbounded channel of items that carry their writer's gray context.</summary>
    public static Channel<GrayItem<T>> CreateUnbounded<T>(UnboundedChannelOptions? options = null) =>
        options is null ? Channel.CreateUnbounded<GrayItem<T>>() : Channel.CreateUnbounded<GrayItem<T>>(options);

    /// <summary>Creates a bounded channel of items that carry their writer's gray context.</summary>
    public static Channel<GrayItem<T>> CreateBounded<T>(BoundedChannelOptions options) => Channel.CreateBounded<GrayItem<T>>(options);

    /// <summary>Writes <paramref name="item"/> with the current gray status and lane, waiting for room if the channel is full.</summary>
    public static ValueTask WriteWithGrayContextAsync<T>(this ChannelWriter<GrayItem<T>> writer, T item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        return writer.WriteAsync(GrayItem.Capture(item), cancellationToken);
    }

    /// <summary>Writes <paramref name="item"/> with the current gray status and lane if the channel has room.</summary>
    public static bool TryWriteWithGrayContext<T>(this ChannelWriter<GrayItem<T>> writer, T item)
    {
        ArgumentNullException.ThrowIfNull(writer);
        return writer.TryWrite(GrayItem.Capture(item));
    }

    /// <summary>
    /// Reads every item until the channel completes, for <c>await foreach</c>: the body of the loop runs in each item's
    /// writer's context (an item written untagged runs untagged, whatever the reader's own context), and the reader's
    /// own context is back as the loop asks for the next item or ends. Iterate it directly: an operator between it and
    /// the loop (System.Linq.Async) runs the item in its own flow, and the loop body would not see the context.
    /// </summary>
    public static IAsyncEnumerable<T> ReadAllWithGrayContextAsync<T>(this ChannelReader<GrayItem<T>> reader, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return new RestoringEnumerable<T>(reader, cancellationToken);
    }

    private sealed class RestoringEnumerable<T>(ChannelReader<GrayItem<T>> reader, CancellationToken cancellationToken) : IAsyncEnumerable<T>
    {
        // The reader's own iterator links this token with the one given to GetAsyncEnumerator (WithCancellation).
        public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken enumeratorCancellation = default) =>
            new RestoringEnumerator<T>(reader.ReadAllAsync(cancellationToken).GetAsyncEnumerator(enumeratorCancellation));
    }

    /// <summary>
    /// Enters an item's context where the consumer's own flow reads <see cref="Current"/>, and ends it where the consumer
    /// calls <see cref="MoveNextAsync"/> or <see cref="DisposeAsync"/>: only synchronous calls made by the consumer change
    /// its async-local values. Inside an async method (an iterator) the change would stay in that method's flow.
    /// </summary>
    private sealed class RestoringEnumerator<T>(IAsyncEnumerator<GrayItem<T>> inner) : IAsyncEnumerator<T>
    {
        private GrayScope _scope;
        private bool _entered;

        public T Current
        {
            get
            {
                var item = inner.Current;
                if (!_entered)
                {
                    _scope = item.Restore();
                    _entered = true;
                }

                return item.Value;
            }
        }

        public ValueTask<bool> MoveNextAsync()
        {
            // Ended before the next read starts, so nothing of this item's context reaches the next one or the wait.
            Leave();
            return inner.MoveNextAsync();
        }

        public ValueTask DisposeAsync()
        {
            Leave();
            return inner.DisposeAsync();
        }

        private void Leave()
        {
            if (_entered)
            {
                _entered = false;
                var scope = _scope;
                _scope = default;
                scope.Dispose();
            }
        }
    }
}
