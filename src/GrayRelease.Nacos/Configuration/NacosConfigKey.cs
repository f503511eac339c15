using System.Security.Cryptography;
using System.Text;

namespace GrayRelease.Nacos.Configuration;

/// <summary>A config's identity (dataId, group, tenant) and the wire formats of the long-poll listener.</summary>
internal readonly record struct NacosConfigKey(string DataId, string Group, string Tenant)
{
    private const char WordSeparator = '\u0002';
    private const char LineSeparator = '\u0001';

    public override string ToString() =>
        Tenant.Length == 0 ? $"dataId '{DataId}', group '{Group}'" : $"dataId '{DataId}', group '{Group}', namespace '{Tenant}'";

    /// <summary>dataId and group: letters, digits and <c>_ . - :</c> only (the server answers 400 otherwise).</summary>
    public static bool IsValidName(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '.' or '-' or ':'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Lower-case hex MD5 of the content's UTF-8 bytes; empty when there is no content.</summary>
    public static string Md5(string? content)
    {
        if (content is null)
        {
            return string.Empty;
        }

#pragma warning disable CA5351 // MD5 is what the Nacos protocol compares; not used for security.
        var hash = MD5.HashData(Encoding.UTF8.GetBytes(content));
#pragma warning restore CA5351
#if NET9_0_OR_GREATER
        return Convert.ToHexStringLower(hash);
#else
#pragma warning disable CA1308 // Nacos compares lower-case hex.
        return Convert.ToHexString(hash).ToLowerInvariant();
#pragma warning restore CA1308
#endif
    }

    /// <summary>Builds the <c>Listening-Configs</c> form value: <c>dataId^2group^2md5[^2tenant]^1</c> per config.</summary>
    public static string BuildListeningConfigs(IEnumerable<(NacosConfigKey Key, string Md5)> configs)
    {
        var builder = new StringBuilder();
        foreach (var (key, md5) in configs)
        {
            builder.Append(key.DataId).Append(WordSeparator).Append(key.Group).Append(WordSeparator).Append(md5);
            if (key.Tenant.Length > 0)
            {
                builder.Append(WordSeparator).Append(key.Tenant);
            }

            builder.Append(LineSeparator);
        }

        return builder.ToString();
    }

    /// <summary>Parses a listener answer: the URL-encoded list <c>dataId^2group[^2tenant]^1</c> of changed configs.</summary>
    public static List<NacosConfigKey> ParseChanged(string body)
    {
        var result = new List<NacosConfigKey>();
        if (string.IsNullOrWhiteSpace(body))
        {
            return result;
        }

        var decoded = Uri.UnescapeDataString(body.Trim());
        foreach (var line in decoded.Split(LineSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var words = line.Split(WordSeparator);
            if (words.Length >= 2 && words[0].Length > 0)
            {
                result.Add(new NacosConfigKey(words[0], words[1], words.Length > 2 ? words[2] : string.Empty));
            }
        }

        return result;
    }
}
