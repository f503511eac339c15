using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace GrayRelease.Nacos.Emulator.Grpc;

/// <summary>
/// The server's parameter check (on by default since 2.3.0): common/paramcheck/ParamCheckRule.java and
/// DefaultParamChecker.java, fields as the *ParamExtractor classes take them; blank values pass. Failure →
/// the handler's response type, 500/400, <c>Param check invalid:</c> + the checker's message (RemoteParamCheckFilter.java).
/// </summary>
internal static partial class GrpcParamCheck
{
    public const string Prefix = "Param check invalid:";

    /// <summary>The checker's order: namespace, dataId, serviceName, group, clusters, cluster, ip, port, metadata.</summary>
    public static string? Check(
        string? namespaceId = null,
        string? dataId = null,
        string? serviceName = null,
        string? group = null,
        string? clusters = null,
        string? cluster = null,
        string? ip = null,
        string? port = null,
        IReadOnlyDictionary<string, string>? metadata = null) =>
        Namespace(namespaceId) ?? DataId(dataId) ?? ServiceName(serviceName) ?? Group(group) ?? Clusters(clusters)
            ?? Cluster(cluster) ?? Ip(ip) ?? Port(port) ?? Metadata(metadata);

    /// <summary>The naming fields of an instance (InstanceRequestParamExtractor.java).</summary>
    public static string? Instance(string? namespaceId, string? group, string? serviceName, JsonElement instance) =>
        Check(
            namespaceId: namespaceId,
            serviceName: serviceName,
            group: group,
            cluster: GrpcJson.String(instance, "clusterName"),
            ip: GrpcJson.String(instance, "ip"),
            port: instance.ValueKind == JsonValueKind.Object ? GrpcJson.Int(instance, "port", 0).ToString(CultureInfo.InvariantCulture) : null,
            metadata: GrpcJson.StringMap(instance, "metadata"));

    private static string? Namespace(string? value) => Blank(value) ? null
        : value!.Length > 64 ? "Param 'namespaceId/tenant' is illegal, the param length should not exceed 64."
        : !NamespacePattern().IsMatch(value) ? "Param 'namespaceId/tenant' is illegal, illegal characters should not appear in the param."
        : null;

    private static string? DataId(string? value) => Blank(value) ? null
        : value!.Length > 256 ? "Param 'dataId' is illegal, the param length should not exceed 256."
        : !NamePattern().IsMatch(value) ? "Param 'dataId' is illegal, illegal characters should not appear in the param."
        : null;

    private static string? ServiceName(string? value) => Blank(value) ? null
        : value!.Length > 512 ? "Param 'serviceName' is illegal, the param length should not exceed 512."
        : !ServiceNamePattern().IsMatch(value) ? "Param 'serviceName' is illegal, illegal characters should not appear in the param."
        : null;

    private static string? Group(string? value) => Blank(value) ? null
        : value!.Length > 128 ? "Param 'group' is illegal, the param length should not exceed 128."
        : !NamePattern().IsMatch(value) ? "Param 'group' is illegal, illegal characters should not appear in the param."
        : null;

    private static string? Clusters(string? value)
    {
        if (Blank(value))
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

    private static string? Cluster(string? value) => Blank(value) ? null
        : value!.Length > 64 ? "Param 'cluster' is illegal, the param length should not exceed 64."
        : !ClusterPattern().IsMatch(value) ? "Param 'cluster' is illegal, illegal characters should not appear in the param."
        : null;

    private static string? Ip(string? value) => Blank(value) ? null
        : value!.Length > 128 ? "Param 'ip' is illegal, the param length should not exceed 128."
        : !IpPattern().IsMatch(value) ? "Param 'ip' is illegal, illegal characters should not appear in the param."
        : null;

    private static string? Port(string? value) => Blank(value) ? null
        : !int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var port) || port is < 0 or > 65535
            ? "Param 'port' is illegal, the value should be between 0 and 65535."
            : null;

    private static string? Metadata(IReadOnlyDictionary<string, string>? metadata)
    {
        if (metadata is null || metadata.Count == 0)
        {
            return null;
        }

        var length = 0;
        foreach (var (key, value) in metadata)
        {
            length += Blank(key) ? 0 : key.Length;
            length += Blank(value) ? 0 : value.Length;
        }

        return length > 1024 ? "Param 'Metadata' is illegal, the param length should not exceed 1024." : null;
    }

    private static bool Blank(string? value) => string.IsNullOrWhiteSpace(value);

    // Java's Matcher.matches() means the whole value.
    [GeneratedRegex(@"^[A-Za-z0-9_-]+\z")]
    private static partial Regex NamespacePattern();

    [GeneratedRegex(@"^[a-zA-Z0-9_:.-]*\z")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^(?!@).((?!@@)[^\u4E00-\u9FA5\s])*\z")]
    private static partial Regex ServiceNamePattern();

    [GeneratedRegex(@"^[0-9a-zA-Z_-]+\z")]
    private static partial Regex ClusterPattern();

    [GeneratedRegex(@"^[^\u4E00-\u9FA5\s]*\z")]
    private static partial Regex IpPattern();
}
