using System.Collections;
using System.Globalization;
using GrayRelease.Routing;
using Yarp.ReverseProxy.Model;

namespace GrayRelease.Yarp;

/// <summary>
/// The destinations of one version of a cluster (or all of them), built once per destination change and handed to YARP
/// as <c>AvailableDestinations</c>. A group of the routing core, so it rotates with the core's weighted rotation (the
/// same order as the HttpClient load balancer), and gray and prod traffic rotate independently.
/// </summary>
internal sealed class DestinationSet : WeightedRotation<DestinationState>, IReadOnlyList<DestinationState>
{
    private readonly DestinationState[] _items;

    public DestinationSet(DestinationState[] items)
        : this(ToMembers(items))
    {
    }

    public DestinationSet(RouteMember<DestinationState>[] members)
        : base(members)
    {
        _items = new DestinationState[members.Length];
        for (var i = 0; i < members.Length; i++)
        {
            _items[i] = members[i].Instance;
        }
    }

    public DestinationState this[int index] => _items[index];

    /// <summary>Reads a destination's weight (<see cref="GrayReleaseProxy.WeightMetadataKey"/>); missing or unreadable means 1.</summary>
    public static double GetWeight(DestinationState destination) =>
        destination.Model?.Config.Metadata is { } metadata
        && metadata.TryGetValue(GrayReleaseProxy.WeightMetadataKey, out var text)
        && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var weight)
        && double.IsFinite(weight)
            ? weight
            : 1;

    /// <summary>The next destination in rotation; the set must not be empty.</summary>
    public DestinationState Next() => Pick().Instance;

    public IEnumerator<DestinationState> GetEnumerator() => ((IEnumerable<DestinationState>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

    private static RouteMember<DestinationState>[] ToMembers(DestinationState[] items)
    {
        var members = new RouteMember<DestinationState>[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            members[i] = new RouteMember<DestinationState>(items[i], string.Empty, GetWeight(items[i]));
        }

        return members;
    }
}
