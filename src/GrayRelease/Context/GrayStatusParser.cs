namespace GrayRelease;

/// <summary>Converts <see cref="GrayStatus"/> to and from its wire values <c>ALL</c>, <c>PROD</c>, <c>GRAY</c>.</summary>
public static class GrayStatusParser
{
    /// <summary>Longest header value considered at all; anything longer is ignored without being inspected.</summary>
    public const int MaxWireLength = 16;

    /// <summary>The wire value of <paramref name="status"/>.</summary>
    public static string ToWireValue(this GrayStatus status) => status switch
    {
        GrayStatus.All => "ALL",
        GrayStatus.Prod => "PROD",
        GrayStatus.Gray => "GRAY",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown gray status."),
    };

    /// <summary>Parses a wire value, case-insensitively, ignoring surrounding white space. Never throws.</summary>
    public static bool TryParse(ReadOnlySpan<char> value, out GrayStatus status)
    {
        value = value.Trim();
        if (value.Equals("GRAY", StringComparison.OrdinalIgnoreCase))
        {
            status = GrayStatus.Gray;
            return true;
        }

        if (value.Equals("PROD", StringComparison.OrdinalIgnoreCase))
        {
            status = GrayStatus.Prod;
            return true;
        }

        if (value.Equals("ALL", StringComparison.OrdinalIgnoreCase))
        {
            status = GrayStatus.All;
            return true;
        }

        status = default;
        return false;
    }
}
