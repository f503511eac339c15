using System.Collections;

namespace GrayRelease.Diagnostics;

/// <summary>
/// Log scope state carrying the gray status. One shared instance per status, so opening the scope on every
/// request allocates nothing.
/// </summary>
internal sealed class GrayLogScope : IReadOnlyList<KeyValuePair<string, object?>>
{
    public const string StatusKey = "GrayStatus";

    private static readonly GrayLogScope AllScope = new(GrayStatus.All);
    private static readonly GrayLogScope ProdScope = new(GrayStatus.Prod);
    private static readonly GrayLogScope GrayScopeState = new(GrayStatus.Gray);

    private readonly KeyValuePair<string, object?> _entry;
    private readonly string _text;

    private GrayLogScope(GrayStatus status)
    {
        var wire = status.ToWireValue();
        _entry = new KeyValuePair<string, object?>(StatusKey, wire);
        _text = $"{StatusKey}:{wire}";
    }

    public static GrayLogScope For(GrayStatus status) => status switch
    {
        GrayStatus.Gray => GrayScopeState,
        GrayStatus.Prod => ProdScope,
        _ => AllScope,
    };

    public int Count => 1;

    public KeyValuePair<string, object?> this[int index] =>
        index == 0 ? _entry : throw new ArgumentOutOfRangeException(nameof(index));

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return _entry;
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => _text;
}
