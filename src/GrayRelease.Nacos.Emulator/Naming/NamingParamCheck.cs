using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using GrayRelease.Nacos.Emulator.Http;

namespace GrayRelease.Nacos.Emulator.Naming;

/// <summary>
/// The two layers of parameter checks a real server (2.2+, <c>nacos.core.param.check.enabled</c> on by default) applies
/// to the naming Open API, on v1 and v2 alike.
/// </summary>
internal static partial class NamingParamCheck
{
    /// <summary>Which of the server's extractors feeds the filter (naming/.../paramcheck/NamingInstance*HttpParamExtractor.java).</summary>
    public enum Extractor
    {
        /// <summary>NamingDefaultHttpParamExtractor: register, deregister, update, detail.</summary>
        Default,

        /// <summary>NamingInstanceBeatHttpParamExtractor: the query, then ip / port / cluster of the <c>beat</c> JSON.</summary>
        Beat,

        /// <summary>NamingInstanceListHttpParamExtractor: service, group, namespace, the <c>clusters</c> list.</summary>
        List,
    }

    private const int MaxNamespaceIdLength = 64;
    private const int MaxServiceNameLength = 512;
    private const int MaxGroupLength = 128;
    private const int MaxClusterLength = 64;
    private const int MaxIpLength = 128;
    private const int MaxMetadataLength = 1024;

    /// <summary>
    /// The first failure of core/.../paramcheck/ParamCheckerFilter.java with common/.../paramcheck/DefaultParamChecker.java
    /// and ParamCheckRule.java (unchanged from 2.3 to 3.x), in its order; null when every value passes. The server
    /// answers it as a plain-text 400 before any controller runs, so v2 answers it the same way as v1.
    /// </summary>
    public static string? Filter(RequestParameters parameters, Extractor extractor)
    {
        var serviceName = parameters["serviceName"];
        var groupName = parameters["groupName"];
        if (extractor == Extractor.Default)
        {
            serviceName = IsBlank(serviceName) ? parameters["serviceNameParam"] : serviceName;
            groupName = IsBlank(groupName) ? parameters["groupNameParam"] : groupName;
        }

        var separator = IsBlank(serviceName) ? -1 : serviceName!.IndexOf(ServiceKey.GroupSeparator, StringComparison.Ordinal);
        if (separator >= 0)
        {
            groupName = serviceName![..separator];
            serviceName = serviceName[(separator + ServiceKey.GroupSeparator.Length)..];
        }

        var failure = NamespaceId(parameters["namespaceId"]) ?? ServiceName(serviceName) ?? Group(groupName);
        if (failure is not null)
        {
            return failure;
        }

        switch (extractor)
        {
            case Extractor.List:
                return Clusters(parameters["clusters"]);
            case Extractor.Beat:
                return Ip(parameters["ip"]) ?? Port(parameters["port"]) ?? BeatBody(parameters["beat"]);
            default:
                var cluster = parameters["clusterName"];
                return Cluster(IsBlank(cluster) ? parameters["cluster"] : cluster)
                    ?? Ip(parameters["ip"])
                    ?? Port(IsBlank(parameters["port"]) ? parameters["checkPort"] : parameters["port"])
                    ?? Metadata(parameters["metadata"]);
        }
    }

    /// <summary>
    /// api/.../naming/utils/NamingUtils.java checkInstanceIsLegal, run for every registration (also one a full beat
    /// makes): the heartbeat interval must not exceed the heartbeat or delete timeout, and the cluster name is stricter
    /// than the filter's (no <c>_</c>). v1 answers the message as text; v2 as <c>{21004, "instance error", message}</c>.
    /// </summary>
    public static void CheckInstance(InstanceRegistration registration)
    {
        // api/.../naming/pojo/Instance.java getMetaDataByKeyWithDefault: only digits count; anything else is the default.
        var interval = Millis(registration.Metadata, InstanceTimeouts.HeartBeatInterval, 5000);
        var timeout = Millis(registration.Metadata, InstanceTimeouts.HeartBeatTimeout, 15000);
        var delete = Millis(registration.Metadata, InstanceTimeouts.IpDeleteTimeout, 30000);
        if (timeout < interval || delete < interval)
        {
            throw InstanceError("Instance 'heart beat interval' must less than 'heart beat timeout' and 'ip delete timeout'.");
        }

        if (!string.IsNullOrEmpty(registration.ClusterName) && !InstanceClusterPattern().IsMatch(registration.ClusterName))
        {
            throw InstanceError(string.Create(
                CultureInfo.InvariantCulture,
                $"Instance 'clusterName' should be characters with only 0-9a-zA-Z-. (current: {registration.ClusterName})"));
        }
    }

    private static NacosRequestException InstanceError(string message) => new(400, 21004, message) { Abstract = "instance error" };

    private static long Millis(IReadOnlyDictionary<string, string> metadata, string key, long fallback) =>
        metadata.TryGetValue(key, out var text) && DigitsPattern().IsMatch(text)
        && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : fallback;

    private static string? NamespaceId(string? value) =>
        IsBlank(value) ? null
        : value!.Length > MaxNamespaceIdLength ? TooLong("namespaceId/tenant", MaxNamespaceIdLength)
        : NamespaceIdPattern().IsMatch(value) ? null
        : Illegal("namespaceId/tenant");

    private static string? ServiceName(string? value) =>
        IsBlank(value) ? null
        : value!.Length > MaxServiceNameLength ? TooLong("serviceName", MaxServiceNameLength)
        : ServiceNamePattern().IsMatch(value) ? null
        : Illegal("serviceName");

    private static string? Group(string? value) =>
        IsBlank(value) ? null
        : value!.Length > MaxGroupLength ? TooLong("group", MaxGroupLength)
        : GroupPattern().IsMatch(value) ? null
        : Illegal("group");

    private static string? Clusters(string? value)
    {
        if (IsBlank(value))
        {
            return null;
        }

        foreach (var cluster in value!.Split(','))
        {
            if (Cluster(cluster) is { } failure)
            {
                return failure;
            }
        }

        return null;
    }

    private static string? Cluster(string? value) =>
        IsBlank(value) ? null
        : value!.Length > MaxClusterLength ? TooLong("cluster", MaxClusterLength)
        : ClusterPattern().IsMatch(value) ? null
        : Illegal("cluster");

    private static string? Ip(string? value) =>
        IsBlank(value) ? null
        : value!.Length > MaxIpLength ? TooLong("ip", MaxIpLength)
        : IpPattern().IsMatch(value) ? null
        : Illegal("ip");

    private static string? Port(string? value) =>
        IsBlank(value)
        || (int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var port) && port is >= 0 and <= 65535)
            ? null
            : "Param 'port' is illegal, the value should be between 0 and 65535.";

    private static string? Metadata(string? value)
    {
        IReadOnlyDictionary<string, string> metadata;
        try
        {
            metadata = Parameters.Metadata(value);
        }
        catch (NacosRequestException)
        {
            // Unreadable metadata is refused by the controller, with its own message.
            return null;
        }

        var total = 0;
        foreach (var (key, text) in metadata)
        {
            total += (IsBlank(key) ? 0 : key.Length) + (IsBlank(text) ? 0 : text.Length);
        }

        return total > MaxMetadataLength
            ? string.Create(CultureInfo.InvariantCulture, $"Param 'Metadata' is illegal, the param length should not exceed {MaxMetadataLength}.")
            : null;
    }

    /// <summary>The second ParamInfo of the beat extractor: ip, port and cluster inside the <c>beat</c> JSON.</summary>
    private static string? BeatBody(string? beat)
    {
        if (IsBlank(beat))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(beat!);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var ip = root.TryGetProperty("ip", out var ipElement) && ipElement.ValueKind == JsonValueKind.String ? ipElement.GetString() : null;
            var cluster = root.TryGetProperty("cluster", out var clusterElement) && clusterElement.ValueKind == JsonValueKind.String
                ? clusterElement.GetString()
                : null;
            var port = root.TryGetProperty("port", out var portElement) && portElement.ValueKind == JsonValueKind.Number ? portElement.GetRawText() : "0";
            return Ip(ip) ?? Port(port) ?? Cluster(cluster);
        }
        catch (JsonException)
        {
            // The controller refuses an unreadable beat itself.
            return null;
        }
    }

    private static string TooLong(string name, int max) =>
        string.Create(CultureInfo.InvariantCulture, $"Param '{name}' is illegal, the param length should not exceed {max}.");

    private static string Illegal(string name) => $"Param '{name}' is illegal, illegal characters should not appear in the param.";

    /// <summary>Java's <c>StringUtils.isBlank</c>: null, empty or only whitespace.</summary>
    private static bool IsBlank(string? value) => string.IsNullOrWhiteSpace(value);

    // Java patterns as Pattern.matcher(...).matches() reads them: the whole input, ASCII \w, \s = [ \t\n\x0B\f\r],
    // '.' = anything but a line terminator.
    [GeneratedRegex(@"\A[A-Za-z0-9_-]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamespaceIdPattern();

    [GeneratedRegex(@"\A(?!@)[^\n\r\u0085\u2028\u2029]((?!@@)[^\u4E00-\u9FA5 \t\n\x0B\f\r])*\z", RegexOptions.CultureInvariant)]
    private static partial Regex ServiceNamePattern();

    [GeneratedRegex(@"\A[a-zA-Z0-9_:.-]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex GroupPattern();

    [GeneratedRegex(@"\A[0-9a-zA-Z_-]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex ClusterPattern();

    [GeneratedRegex(@"\A[0-9a-zA-Z-]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex InstanceClusterPattern();

    [GeneratedRegex(@"\A[^\u4E00-\u9FA5 \t\n\x0B\f\r]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex IpPattern();

    [GeneratedRegex(@"\A[0-9]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex DigitsPattern();
}
