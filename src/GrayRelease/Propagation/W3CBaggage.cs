using System.Text;
using Microsoft.Extensions.Primitives;

namespace GrayRelease.Propagation;

/// <summary>One list-member of a W3C <c>baggage</c> header: its key, its percent-decoded value, and its text as received.</summary>
internal readonly record struct BaggageMember(string Key, string Value, string Raw);

/// <summary>What parsing a <c>baggage</c> header found: the well-formed members, and how many were left out and why.</summary>
internal sealed class BaggageParseResult
{
    public static readonly BaggageParseResult Empty = new();

    public List<BaggageMember> Members { get; } = [];

    /// <summary>List-members that break the W3C syntax (ignored).</summary>
    public int Malformed { get; set; }

    /// <summary>List-members past the limits (180 members, 8192 bytes) (ignored).</summary>
    public int BeyondLimits { get; set; }

    /// <summary>Why the first ignored member was ignored (never its value: baggage may carry user data).</summary>
    public string? FirstProblem { get; set; }

    /// <summary>
    /// The keys, read leniently (the text before '=' or ';'), of the ignored members: a key named there is decided by this
    /// header (as absent), not looked up again in a more lenient .NET baggage API that may have accepted the same member.
    /// </summary>
    public List<string> IgnoredKeys { get; } = [];

    /// <summary>Whether the header mentions <paramref name="key"/> at all, in a member kept or ignored.</summary>
    public bool Mentions(string key) => IndexOf(key) >= 0 || IgnoredKeys.Contains(key, StringComparer.Ordinal);

    public int IndexOf(string key)
    {
        for (var i = 0; i < Members.Count; i++)
        {
            if (string.Equals(Members[i].Key, key, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    public int CountOf(string key)
    {
        var count = 0;
        foreach (var member in Members)
        {
            if (string.Equals(member.Key, key, StringComparison.Ordinal))
            {
                count++;
            }
        }

        return count;
    }

    internal void Problem(ReadOnlySpan<char> member, string reason, bool beyondLimits = false)
    {
        var end = member.IndexOfAny('=', ';');
        var key = (end < 0 ? member : member[..end]).Trim(" \t");
        if (!key.IsEmpty && key.Length <= 256)
        {
            IgnoredKeys.Add(key.ToString());
        }

        if (beyondLimits)
        {
            BeyondLimits++;
        }
        else
        {
            Malformed++;
        }

        FirstProblem ??= reason;
    }
}

/// <summary>
/// The W3C Baggage header format (w3c/baggage, baggage/HTTP_HEADER_FORMAT.md): parsing that never throws and ignores
/// what does not conform, member by member, and writing that percent-encodes values and keeps within the limits.
/// </summary>
/// <remarks>
/// The limits: the ABNF allows 180 list-members (<c>list-member 0*179( OWS "," OWS list-member )</c>) and a platform
/// must carry at least 8192 bytes; we carry no more than either, and ignore what lies beyond.
/// </remarks>
internal static class W3CBaggage
{
    /// <summary>The header (and gRPC metadata key): lower case, as the specification recommends and gRPC requires.</summary>
    public const string HeaderName = "baggage";

    public const int MaxMembers = 180;

    public const int MaxBytes = 8192;

    /// <summary>Parses every value of the header (several header lines are one list, RFC 7230 section 3.2.2).</summary>
    public static BaggageParseResult Parse(StringValues values)
    {
        if (StringValues.IsNullOrEmpty(values))
        {
            return BaggageParseResult.Empty;
        }

        var result = new BaggageParseResult();
        var bytes = 0;
        for (var v = 0; v < values.Count; v++)
        {
            var value = values[v];
            if (string.IsNullOrEmpty(value))
            {
                continue;
            }

            var start = 0;
            while (start <= value.Length)
            {
                var comma = value.IndexOf(',', start);
                var end = comma < 0 ? value.Length : comma;
                var segment = value.AsSpan(start, end - start);

                // Bytes of the list so far, the separators included; the header is ASCII when well-formed, and a
                // character beyond ASCII makes its member malformed below, so characters count as bytes here.
                bytes += segment.Length + (bytes == 0 ? 0 : 1);
                var trimmed = TrimOws(segment);
                if (!trimmed.IsEmpty)
                {
                    if (bytes > MaxBytes)
                    {
                        result.Problem(trimmed, "beyond 8192 bytes", beyondLimits: true);
                    }
                    else if (result.Members.Count >= MaxMembers)
                    {
                        result.Problem(trimmed, "beyond 180 list-members", beyondLimits: true);
                    }
                    else if (TryParseMember(trimmed, out var member, out var problem))
                    {
                        result.Members.Add(member);
                    }
                    else
                    {
                        result.Problem(trimmed, problem);
                    }
                }

                // An empty element ("a=1,,b=2") is allowed by the list rule (RFC 7230 section 7) and carries nothing.
                if (comma < 0)
                {
                    break;
                }

                start = comma + 1;
            }
        }

        return result;
    }

    /// <summary>Whether <paramref name="key"/> is a baggage key: an HTTP token (RFC 7230 section 3.2.6).</summary>
    public static bool IsKey(ReadOnlySpan<char> key)
    {
        if (key.IsEmpty)
        {
            return false;
        }

        foreach (var c in key)
        {
            if (!IsTokenChar(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Builds the header that carries <paramref name="members"/> first (ours: they decide routing) and then
    /// <paramref name="others"/> (raw list-members, in order) while within the limits; <see langword="null"/> when empty.
    /// </summary>
    public static string? Build(IReadOnlyList<KeyValuePair<string, string>> members, IReadOnlyList<string> others)
    {
        var builder = new StringBuilder();
        var count = 0;
        foreach (var (key, value) in members)
        {
            var start = builder.Length;
            if (count > 0)
            {
                builder.Append(',');
            }

            builder.Append(key).Append('=');
            AppendEncoded(builder, value);
            if (builder.Length > MaxBytes)
            {
                builder.Length = start;
                continue;
            }

            count++;
        }

        foreach (var raw in others)
        {
            if (count >= MaxMembers || builder.Length + raw.Length + (count > 0 ? 1 : 0) > MaxBytes)
            {
                // The limits allow dropping members in any order (HTTP_HEADER_FORMAT.md, "Mutating baggage").
                continue;
            }

            if (count > 0)
            {
                builder.Append(',');
            }

            builder.Append(raw);
            count++;
        }

        return count == 0 ? null : builder.ToString();
    }

    /// <summary>A list-member with <paramref name="value"/> percent-encoded, for members that did not come as text.</summary>
    public static string Format(string key, string value)
    {
        var builder = new StringBuilder(key.Length + value.Length + 1);
        builder.Append(key).Append('=');
        AppendEncoded(builder, value);
        return builder.ToString();
    }

    private static bool TryParseMember(ReadOnlySpan<char> text, out BaggageMember member, out string problem)
    {
        member = default;
        var semicolon = text.IndexOf(';');
        var pair = semicolon < 0 ? text : text[..semicolon];
        var equals = pair.IndexOf('=');
        if (equals < 0)
        {
            problem = "a list-member without '='";
            return false;
        }

        var key = TrimOws(pair[..equals]);
        if (!IsKey(key))
        {
            problem = "a key that is not an HTTP token";
            return false;
        }

        // A value may itself contain '=' (the specification says so): everything after the first one is the value.
        var rawValue = TrimOws(pair[(equals + 1)..]);
        if (!TryDecode(rawValue, out var value))
        {
            problem = "a value with characters outside baggage-octet or a bad percent-encoding";
            return false;
        }

        if (semicolon >= 0 && !ArePropertiesValid(text[(semicolon + 1)..]))
        {
            problem = "a malformed property";
            return false;
        }

        member = new BaggageMember(key.ToString(), value, text.ToString());
        problem = string.Empty;
        return true;
    }

    // property = key OWS "=" OWS value / key OWS; their meaning is opaque to us, but the syntax is checked so a member
    // forwarded as received is a well-formed one.
    private static bool ArePropertiesValid(ReadOnlySpan<char> properties)
    {
        while (true)
        {
            var semicolon = properties.IndexOf(';');
            var property = TrimOws(semicolon < 0 ? properties : properties[..semicolon]);
            var equals = property.IndexOf('=');
            if (equals < 0)
            {
                if (!IsKey(property))
                {
                    return false;
                }
            }
            else if (!IsKey(TrimOws(property[..equals])) || !AreBaggageOctets(TrimOws(property[(equals + 1)..])))
            {
                return false;
            }

            if (semicolon < 0)
            {
                return true;
            }

            properties = properties[(semicolon + 1)..];
        }
    }

    private static bool TryDecode(ReadOnlySpan<char> raw, out string value)
    {
        value = string.Empty;
        if (!AreBaggageOctets(raw))
        {
            return false;
        }

        if (raw.IndexOf('%') < 0)
        {
            value = raw.ToString();
            return true;
        }

        var bytes = new byte[raw.Length];
        var length = 0;
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] != '%')
            {
                bytes[length++] = (byte)raw[i];
                continue;
            }

            if (i + 2 >= raw.Length || !char.IsAsciiHexDigit(raw[i + 1]) || !char.IsAsciiHexDigit(raw[i + 2]))
            {
                return false;
            }

            bytes[length++] = (byte)((HexValue(raw[i + 1]) << 4) | HexValue(raw[i + 2]));
            i += 2;
        }

        try
        {
            value = StrictUtf8.GetString(bytes, 0, length);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    private static void AppendEncoded(StringBuilder builder, string value)
    {
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in value.EnumerateRunes())
        {
            if (rune.IsAscii && rune.Value != '%' && IsBaggageOctet((char)rune.Value))
            {
                builder.Append((char)rune.Value);
                continue;
            }

            // A value is "a URL encoded UTF-8 string": every other character goes as the %XX of its UTF-8 bytes.
            var written = rune.EncodeToUtf8(utf8);
            for (var i = 0; i < written; i++)
            {
                AppendByte(builder, utf8[i]);
            }
        }
    }

    private static void AppendByte(StringBuilder builder, byte b) =>
        builder.Append('%').Append("0123456789ABCDEF"[b >> 4]).Append("0123456789ABCDEF"[b & 0xF]);

    private static bool AreBaggageOctets(ReadOnlySpan<char> value)
    {
        foreach (var c in value)
        {
            if (!IsBaggageOctet(c))
            {
                return false;
            }
        }

        return true;
    }

    // baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E: printable ASCII but DQUOTE, comma, semicolon, backslash.
    private static bool IsBaggageOctet(char c) => c is >= '!' and <= '~' and not ('"' or ',' or ';' or '\\');

    private static bool IsTokenChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';

    private static ReadOnlySpan<char> TrimOws(ReadOnlySpan<char> text) => text.Trim(" \t");
}
