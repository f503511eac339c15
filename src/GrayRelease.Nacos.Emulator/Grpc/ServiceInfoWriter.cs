using System.Globalization;
using System.Text.Json;
using GrayRelease.Nacos.Emulator.Http;
using GrayRelease.Nacos.Emulator.Naming;

namespace GrayRelease.Nacos.Emulator.Grpc;

/// <summary>
/// ServiceInfo as the gRPC answers carry it (fixtures/grpc/QueryServiceResponse.json): bare <c>name</c>, the
/// request's <c>clusters</c> (absent when null), <c>checksum</c> "", <c>allIps</c> (2.x: <c>allIPs</c>).
/// </summary>
internal static class ServiceInfoWriter
{
    // api/common/Constants.java: the Instance getters' defaults when no preserved.* metadata says otherwise.
    private const long DefaultBeatInterval = 5000;
    private const long DefaultBeatTimeout = 15000;
    private const long DefaultIpDeleteTimeout = 30000;

    public static void Write(
        Utf8JsonWriter writer,
        string propertyName,
        ServiceKey key,
        string? clusters,
        IReadOnlyList<EmulatedInstance> hosts,
        NacosEmulatorOptions options)
    {
        writer.WriteStartObject(propertyName);
        writer.WriteString("name", key.ServiceName);
        writer.WriteString("groupName", key.GroupName);
        if (clusters is not null)
        {
            writer.WriteString("clusters", clusters);
        }

        writer.WriteNumber("cacheMillis", options.CacheMillis);
        writer.WriteStartArray("hosts");
        foreach (var host in hosts)
        {
            WriteInstance(writer, host);
        }

        writer.WriteEndArray();
        writer.WriteNumber("lastRefTime", options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds());
        writer.WriteString("checksum", string.Empty);

        // api/naming/pojo/ServiceInfo.java: isAllIps() → allIps since 3.0; 2.x named it allIPs.
        writer.WriteBoolean(options.ServerLine == NacosServerLine.Nacos2 ? "allIPs" : "allIps", false);
        writer.WriteBoolean("reachProtectionThreshold", false);
        writer.WriteBoolean("valid", true);
        writer.WriteEndObject();
    }

    /// <summary>api/naming/pojo/Instance.java through Jackson; also the v3 list's items.</summary>
    public static void WriteInstance(Utf8JsonWriter writer, EmulatedInstance host)
    {
        writer.WriteStartObject();
        InstanceListWriter.WriteInstanceFields(writer, host);
        writer.WriteNumber("instanceHeartBeatInterval", Preserved(host.Metadata, InstanceTimeouts.HeartBeatInterval, DefaultBeatInterval));
        writer.WriteNumber("instanceHeartBeatTimeOut", Preserved(host.Metadata, InstanceTimeouts.HeartBeatTimeout, DefaultBeatTimeout));
        writer.WriteNumber("ipDeleteTimeout", Preserved(host.Metadata, InstanceTimeouts.IpDeleteTimeout, DefaultIpDeleteTimeout));

        // Instance.getInstanceIdGenerator(): the default only for empty metadata, else the key's value (null → left out).
        var generator = host.Metadata.Count == 0 ? "simple" : host.Metadata.GetValueOrDefault(InstanceTimeouts.InstanceIdGenerator);
        if (generator is not null)
        {
            writer.WriteString("instanceIdGenerator", generator);
        }

        writer.WriteEndObject();
    }

    /// <summary>Instance.getMetaDataByKeyWithDefault: the default for empty metadata or a non-numeric value.</summary>
    public static long Preserved(IReadOnlyDictionary<string, string> metadata, string key, long fallback) =>
        metadata.TryGetValue(key, out var text)
        && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : fallback;
}
