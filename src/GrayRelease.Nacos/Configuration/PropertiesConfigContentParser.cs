using System.Globalization;
using System.Text;

namespace GrayRelease.Nacos.Configuration;

/// <summary>
/// Java <c>.properties</c>: <c>key=value</c>, <c>key: value</c> or <c>key value</c>; <c>#</c> / <c>!</c> comments;
/// trailing-backslash continuation; <c>\uXXXX</c> escapes. Dots and <c>[i]</c> in keys become <c>:</c> levels, so
/// <c>GrayRelease.Services.user-app.ProdVersion</c> reaches <c>GrayRelease:Services:user-app:ProdVersion</c>.
/// </summary>
internal sealed class PropertiesConfigContentParser : IConfigContentParser
{
    public static readonly PropertiesConfigContentParser Instance = new();

    public string Name => "properties";

    public Dictionary<string, string?> Parse(string content)
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var lines = content.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var logical = new StringBuilder();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimStart();
            if (logical.Length == 0 && (line.Length == 0 || line[0] is '#' or '!'))
            {
                continue;
            }

            if (EndsWithContinuation(line))
            {
                logical.Append(line, 0, line.Length - 1);
                continue;
            }

            logical.Append(line);
            Add(logical.ToString(), i + 1, data);
            logical.Clear();
        }

        if (logical.Length > 0)
        {
            Add(logical.ToString(), lines.Length, data);
        }

        return data;
    }

    private static bool EndsWithContinuation(string line)
    {
        var backslashes = 0;
        for (var i = line.Length - 1; i >= 0 && line[i] == '\\'; i--)
        {
            backslashes++;
        }

        return backslashes % 2 == 1;
    }

    private static void Add(string line, int lineNumber, Dictionary<string, string?> data)
    {
        var separator = -1;
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == '\\')
            {
                i++;
                continue;
            }

            if (line[i] is '=' or ':' or ' ' or '\t')
            {
                separator = i;
                break;
            }
        }

        var rawKey = separator < 0 ? line : line[..separator];
        var rest = separator < 0 ? string.Empty : line[separator..].TrimStart();
        if (separator >= 0 && line[separator] is ' ' or '\t' && rest.Length > 0 && rest[0] is '=' or ':')
        {
            rest = rest[1..];
        }
        else if (rest.Length > 0 && rest[0] is '=' or ':')
        {
            rest = rest[1..];
        }

        var key = Unescape(rawKey.Trim(), lineNumber);
        if (key.Length == 0)
        {
            throw new FormatException($"Line {lineNumber}: a property needs a key.");
        }

        data[ToConfigurationKey(key)] = Unescape(rest.TrimStart(), lineNumber);
    }

    private static string ToConfigurationKey(string key)
    {
        var builder = new StringBuilder(key.Length + 4);
        foreach (var c in key)
        {
            switch (c)
            {
                case '.':
                case '[':
                    if (builder.Length > 0 && builder[^1] != ':')
                    {
                        builder.Append(':');
                    }

                    break;
                case ']':
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        return builder.ToString();
    }

    private static string Unescape(string value, int lineNumber)
    {
        if (!value.Contains('\\', StringComparison.Ordinal))
        {
            return value;
        }

        var builder = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c != '\\' || i == value.Length - 1)
            {
                builder.Append(c);
                continue;
            }

            var next = value[++i];
            switch (next)
            {
                case 't': builder.Append('\t'); break;
                case 'n': builder.Append('\n'); break;
                case 'r': builder.Append('\r'); break;
                case 'f': builder.Append('\f'); break;
                case 'u':
                    if (i + 4 >= value.Length
                        || !int.TryParse(value.AsSpan(i + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code))
                    {
                        throw new FormatException($"Line {lineNumber}: malformed \\uXXXX escape.");
                    }

                    builder.Append((char)code);
                    i += 4;
                    break;
                default: builder.Append(next); break;
            }
        }

        return builder.ToString();
    }
}
