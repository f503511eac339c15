using System.Collections;
using System.Globalization;
using Yarp.ReverseProxy.Model;

namespace GrayRelease.Yarp;

/// <summary>
/// The destinations of one version of a cluster (or all of them), built once per destination change and handed to YARP
/// as <c>AvailableDestinations</c>. Carries its own rotation, so gray and prod traffic rotate independently, and honours
/// destination weights (<see cref="GrayReleaseProxy.WeightMetadataKey"/>).
/// </summary>
internal sealed class DestinationSet : IReadOnlyList<DestinationState>
{
    // Weights are scaled to at most this many slots per destination: 1 % resolution, and a short rotation.
    private const int MaxSlots = 100;

    private readonly DestinationState[] _items;
    private readonly int[]? _slotEnds;
    private readonly uint _slotCount;
    private readonly ulong _stride;
    private int _position = -1;

    public DestinationSet(DestinationState[] items)
    {
        _items = items;
        if (items.Length < 2)
        {
            return;
        }

        var weights = new double[items.Length];
        var max = 0.0;
        var uniform = true;
        for (var i = 0; i < items.Length; i++)
        {
            weights[i] = GetWeight(items[i]);
            max = Math.Max(max, weights[i]);
            uniform &= weights[i] == weights[0];
        }

        if (uniform)
        {
            return;
        }

        _slotEnds = new int[items.Length];
        var end = 0;
        for (var i = 0; i < items.Length; i++)
        {
            end += Math.Max(1, (int)Math.Round(weights[i] / max * MaxSlots));
            _slotEnds[i] = end;
        }

        _slotCount = (uint)end;

        // Walking the slots with a stride coprime to their count visits each slot once per rotation, spread out, so a
        // heavy destination does not take its whole share in one burst.
        _stride = (ulong)(end * 0.618) | 1;
        while (Gcd(_stride, _slotCount) != 1)
        {
            _stride += 2;
        }
    }

    public int Count => _items.Length;

    public DestinationState this[int index] => _items[index];

    /// <summary>Reads a destination's weight; missing or unreadable means 1.</summary>
    public static double GetWeight(DestinationState destination) =>
        destination.Model?.Config.Metadata is { } metadata
        && metadata.TryGetValue(GrayReleaseProxy.WeightMetadataKey, out var text)
        && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var weight)
        && double.IsFinite(weight)
            ? weight
            : 1;

    /// <summary>The next destination in rotation; the set must not be empty.</summary>
    public DestinationState Next()
    {
        var position = (uint)Interlocked.Increment(ref _position);
        if (_slotEnds is null)
        {
            return _items[position % (uint)_items.Length];
        }

        var slot = (int)(position * _stride % _slotCount);
        var index = Array.BinarySearch(_slotEnds, slot);

        // slot s belongs to the first destination whose end is greater than s.
        index = index < 0 ? ~index : index + 1;
        return _items[index];
    }

    public IEnumerator<DestinationState> GetEnumerator() => ((IEnumerable<DestinationState>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

    private static ulong Gcd(ulong a, ulong b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }
}
