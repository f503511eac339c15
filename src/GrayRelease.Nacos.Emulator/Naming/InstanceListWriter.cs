using System.Text.Json;
using GrayRelease.Nacos.Emulator.Http;

namespace GrayRelease.Nacos.Emulator.Naming;

/// <summary>Writes the list answer (<c>ServiceInfo</c>) field for field like fixtures/instance-list.json.</summary>
internal static class InstanceListWriter
{
    public static void WriteServiceInfo(
        Utf8JsonWriter writer,
        ServiceKey key,
        string clusters,
        IReadOnlyList<EmulatedInstance> hosts,
        NacosEmulatorOptions options,
        long lastRefTime,
        bool includeGroupName = true)
    {
        writer.WriteStartObject();
        writer.WriteString("name", key.GroupedName);
        if (includeGroupName)
        {
            writer.WriteString("groupName", key.GroupName);
        }

        writer.WriteString("clusters", clusters);
        writer.WriteNumber("cacheMillis", options.CacheMillis);
        writer.WriteStartArray("hosts");
        foreach (var host in hosts)
        {
            WriteHost(writer, host, options);
        }

        writer.WriteEndArray();
        writer.WriteNumber("lastRefTime", lastRefTime);
        writer.WriteString("checksum", string.Empty);
        writer.WriteBoolean("allIPs", false);
        writer.WriteBoolean("reachProtectionThreshold", false);
        writer.WriteBoolean("valid", true);
        writer.WriteEndObject();
    }

    public static void WriteHost(Utf8JsonWriter writer, EmulatedInstance host, NacosEmulatorOptions options)
    {
        var timeouts = InstanceTimeouts.For(host.Metadata, options);
        writer.WriteStartObject();
        WriteInstanceFields(writer, host);
        writer.WriteNumber("instanceHeartBeatInterval", timeouts.BeatIntervalMillis);
        writer.WriteNumber("instanceHeartBeatTimeOut", timeouts.BeatTimeoutMillis);
        writer.WriteNumber("ipDeleteTimeout", timeouts.DeleteTimeoutMillis);
        writer.WriteString(
            "instanceIdGenerator",
            host.Metadata.TryGetValue(InstanceTimeouts.InstanceIdGenerator, out var generator) ? generator : "simple");
        writer.WriteEndObject();
    }

    /// <summary>The fields every server answer writes for an instance (v1 list hosts, gRPC and v3 Instance objects).</summary>
    internal static void WriteInstanceFields(Utf8JsonWriter writer, EmulatedInstance host)
    {
        writer.WriteString("instanceId", host.InstanceId);
        writer.WriteString("ip", host.Ip);
        writer.WriteNumber("port", host.Port);
        writer.WriteJavaDouble("weight", host.Weight);
        writer.WriteBoolean("healthy", host.Healthy);
        writer.WriteBoolean("enabled", host.Enabled);
        writer.WriteBoolean("ephemeral", host.Ephemeral);
        writer.WriteString("clusterName", host.ClusterName);
        writer.WriteString("serviceName", host.ServiceName);
        writer.WriteStringMap("metadata", host.Metadata);
    }
}
