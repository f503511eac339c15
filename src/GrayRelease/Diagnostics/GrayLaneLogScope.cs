using System.Collections;

namespace GrayRelease.Diagnostics;

/// <summary>Log scope state carrying a request's lane (key <c>gray.lane</c>); allocated only for requests in a lane.</summary>
internal sealed class GrayLaneLogScope(string lane) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public const string LaneKey = "gray.lane";

    private readonly KeyValuePair<string, object?> _entry = new(LaneKey, lane);

    public int Count => 1;

    public KeyValuePair<string, object?> this[int index] =>
        index == 0 ? _entry : throw new ArgumentOutOfRangeException(nameof(index));

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return _entry;
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"{LaneKey}:{_entry.Value}";
}
