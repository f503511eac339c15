using System.Globalization;

namespace GrayRelease.Nacos.Registration;

/// <summary>
/// What a real Nacos server (2.2+, parameter check on by default) refuses in a registration, checked before we send it:
/// a refused registration would otherwise be retried forever. Each check returns a message naming the key and the
/// value, or null. Sources: common/.../paramcheck/ParamCheckRule.java and DefaultParamChecker.java (2.3 to 3.x),
/// api/.../naming/utils/NamingUtils.java checkInstanceIsLegal, naming/.../controllers/v2/InstanceControllerV2.java
/// checkWeight.
/// </summary>
internal static class NacosRegistrationRules
{
    public const double MaxWeight = 10000;
    public const int MaxMetadataLength = 1024;

    private const int MaxServiceNameLength = 512;
    private const int MaxGroupLength = 128;
    private const int MaxClusterLength = 64;
    private const int MaxNamespaceLength = 64;

    /// <summary>
    /// The server refuses whitespace, a leading <c>@</c>, <c>@@</c> and CJK ideographs (serviceNamePatternString). We
    /// accept printable ASCII only: a service name is also the host of <c>http://name/</c> calls, where anything else is
    /// IDN-mapped or refused by <see cref="Uri"/>.
    /// </summary>
    public static string? CheckServiceName(string name, string key)
    {
        if (name.Length > MaxServiceNameLength)
        {
            return $"{key} must be at most {MaxServiceNameLength} characters (the server refuses longer names); got {name.Length.ToString(CultureInfo.InvariantCulture)}.";
        }

        foreach (var c in name)
        {
            if (c is < '!' or > '~')
            {
                return $"{key} must be printable ASCII without whitespace (the server refuses whitespace and CJK characters; other characters cannot be a URL host); got '{name}'.";
            }
        }

        if (name.StartsWith('@') || name.Contains("@@", StringComparison.Ordinal))
        {
            return $"{key} must not start with '@' nor contain '@@' (set the group in nacos:GroupName); got '{name}'.";
        }

        return null;
    }

    /// <summary>groupPatternString <c>^[a-zA-Z0-9-_:\.]*$</c>, at most 128 characters.</summary>
    public static string? CheckGroup(string group)
    {
        if (group.Length > MaxGroupLength)
        {
            return $"nacos:GroupName must be at most {MaxGroupLength} characters; got {group.Length.ToString(CultureInfo.InvariantCulture)}.";
        }

        foreach (var c in group)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or ':' or '.'))
            {
                return $"nacos:GroupName must be letters, digits and - _ : . only (the server refuses others); got '{group}'.";
            }
        }

        return null;
    }

    /// <summary>
    /// NamingUtils.checkInstanceIsLegal: <c>^[0-9a-zA-Z-]+$</c> (stricter than the filter's, which allows <c>_</c>),
    /// at most 64 characters. Empty means <c>DEFAULT</c>.
    /// </summary>
    public static string? CheckCluster(string? cluster)
    {
        if (string.IsNullOrEmpty(cluster))
        {
            return null;
        }

        if (cluster.Length > MaxClusterLength)
        {
            return $"nacos:ClusterName must be at most {MaxClusterLength} characters; got {cluster.Length.ToString(CultureInfo.InvariantCulture)}.";
        }

        foreach (var c in cluster)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-')
            {
                return $"nacos:ClusterName must be letters, digits and - only (the server refuses others, '_' included); got '{cluster}'.";
            }
        }

        return null;
    }

    /// <summary>namespaceIdPatternString <c>^[\w-]+</c> (ASCII), at most 64 characters. Empty means <c>public</c>.</summary>
    public static string? CheckNamespace(string? namespaceId)
    {
        if (string.IsNullOrEmpty(namespaceId))
        {
            return null;
        }

        if (namespaceId.Length > MaxNamespaceLength)
        {
            return $"nacos:Namespace must be at most {MaxNamespaceLength} characters (a namespace id, not its name); got {namespaceId.Length.ToString(CultureInfo.InvariantCulture)}.";
        }

        foreach (var c in namespaceId)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_'))
            {
                return $"nacos:Namespace must be a namespace id: letters, digits, - and _ only; got '{namespaceId}'.";
            }
        }

        return null;
    }

    /// <summary>maxMetadataLength: the characters of every non-blank key and value, 1024 in total.</summary>
    public static string? CheckMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        var total = 0;
        foreach (var (key, value) in metadata)
        {
            total += (string.IsNullOrWhiteSpace(key) ? 0 : key.Length) + (string.IsNullOrWhiteSpace(value) ? 0 : value.Length);
        }

        return total > MaxMetadataLength
            ? $"nacos:Metadata (with the version and secure entries added to it) must be at most {MaxMetadataLength} characters of keys and values in total (the server refuses more); got {total.ToString(CultureInfo.InvariantCulture)}."
            : null;
    }

    /// <summary>
    /// checkInstanceIsLegal: the heartbeat interval must not exceed the heartbeat timeout nor the delete timeout. As the
    /// server reads them (api/.../naming/pojo/Instance.java): digits only, anything else is the default (5 s, 15 s, 30 s).
    /// </summary>
    public static string? CheckHeartbeatMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        var interval = Millis(metadata, BeatBounds.HeartBeatIntervalKey, 5000, out var intervalText);
        var timeout = Millis(metadata, "preserved.heart.beat.timeout", 15000, out var timeoutText);
        var delete = Millis(metadata, "preserved.ip.delete.timeout", 30000, out var deleteText);
        return timeout < interval || delete < interval
            ? $"nacos:Metadata:{BeatBounds.HeartBeatIntervalKey} ('{intervalText}' ms) must not exceed nacos:Metadata:preserved.heart.beat.timeout ('{timeoutText}') nor nacos:Metadata:preserved.ip.delete.timeout ('{deleteText}'); the server refuses such an instance."
            : null;
    }

    private static long Millis(IReadOnlyDictionary<string, string> metadata, string key, long fallback, out string shown)
    {
        if (metadata.TryGetValue(key, out var text) && text.Length > 0 && text.All(char.IsAsciiDigit)
            && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            shown = text;
            return value;
        }

        shown = fallback.ToString(CultureInfo.InvariantCulture) + " (default)";
        return fallback;
    }
}
