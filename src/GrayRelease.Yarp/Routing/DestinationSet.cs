using System.Collections;
using Yarp.ReverseProxy.Model;

namespace GrayRelease.Yarp;

/// <summary>
/// The destinations of one version of a cluster (or all of them), built once per destination change and handed to YARP
/// as <c>AvailableDestinations</c>. Carries its own round-robin position, so gray and prod traffic rotate independently.
/// </summary>
internal sealed class DestinationSet : IReadOnlyList<DestinationState>
{
    private readonly DestinationState[] _items;
    private int _position = -1;

    public DestinationSet(DestinationState[] items) => _items = items;

    public int Count => _items.Length;

    public DestinationState this[int index] => _items[index];

    /// <summary>The next destination in rotation; the set must not be empty.</summary>
    public DestinationState Next()
    {
        var position = (uint)Interlocked.Increment(ref _position);
        return _items[position % (uint)_items.Length];
    }

    public IEnumerator<DestinationState> GetEnumerator() => ((IEnumerable<DestinationState>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();
}
