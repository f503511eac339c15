using System.Text;

namespace GrayRelease.Nacos.Emulator.Config;

/// <summary>
/// The listener protocol: <c>Listening-Configs</c> is <c>dataId\x02group\x02md5[\x02tenant]\x01</c> per config;
/// the answer is the same keys (without md5) URL-encoded, like <c>MD5Util.compareMd5ResultString</c>.
/// </summary>
internal static class ListeningConfigs
{
    private const char WordSeparator = '\u0002';
    private const char LineSeparator = '\u0001';

    /// <summary>One listened config; <paramref name="AnswerTenant"/> is what the answer echoes (empty for public).</summary>
    public readonly record struct Entry(ConfigKey Key, string Md5, string AnswerTenant);

    /// <summary>Parses the probe; null when it is malformed.</summary>
    public static List<Entry>? Parse(string probe)
    {
        var result = new List<Entry>();
        var parts = new List<string>(4);
        var start = 0;
        for (var i = 0; i < probe.Length; i++)
        {
            var ch = probe[i];
            if (ch == WordSeparator)
            {
                parts.Add(probe[start..i]);
                start = i + 1;
                if (parts.Count > 3)
                {
                    return null;
                }
            }
            else if (ch == LineSeparator)
            {
                var last = probe[start..i];
                start = i + 1;
                if (parts.Count < 2)
                {
                    return null;
                }

                string md5;
                string tenant;
                if (parts.Count == 2)
                {
                    md5 = last;
                    tenant = string.Empty;
                }
                else
                {
                    md5 = parts[2];
                    tenant = last;
                }

                var key = ConfigKey.Create(tenant, parts[1], parts[0]);
                result.Add(new Entry(key, md5, key.Tenant));
                parts.Clear();
            }
        }

        return result;
    }

    public static string FormatAnswer(IReadOnlyList<Entry> changed)
    {
        var builder = new StringBuilder();
        foreach (var entry in changed)
        {
            builder.Append(entry.Key.DataId).Append(WordSeparator).Append(entry.Key.Group);
            if (entry.AnswerTenant.Length > 0)
            {
                builder.Append(WordSeparator).Append(entry.AnswerTenant);
            }

            builder.Append(LineSeparator);
        }

        return JavaUrlEncode(builder.ToString());
    }

    /// <summary>java.net.URLEncoder with UTF-8: keeps <c>a-zA-Z0-9.-*_</c>, space as '+', the rest %XX.</summary>
    public static string JavaUrlEncode(string value)
    {
        var builder = new StringBuilder(value.Length * 2);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var ch = (char)b;
            if (char.IsAsciiLetterOrDigit(ch) || ch is '.' or '-' or '*' or '_')
            {
                builder.Append(ch);
            }
            else if (ch == ' ')
            {
                builder.Append('+');
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }
}
