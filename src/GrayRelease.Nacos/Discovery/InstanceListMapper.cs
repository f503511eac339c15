using System.Globalization;
using System.Text;
using GrayRelease.Discovery;
using GrayRelease.Nacos.Naming;

namespace GrayRelease.Nacos.Discovery;

/// <summary>Turns Nacos hosts into <see cref="ServiceInstance"/>s in a stable order, and compares lists.</summary>
internal static class InstanceListMapper
{
    public static ServiceInstance[] Map(string serviceName, IReadOnlyList<NacosHost> hosts)
    {
        var instances = new ServiceInstance[hosts.Count];
        for (var i = 0; i < hosts.Count; i++)
        {
            var host = hosts[i];
            var secure = host.Metadata.TryGetValue("secure", out var value) && string.Equals(value, "true", StringComparison.OrdinalIgnoreCase);
            instances[i] = new ServiceInstance
            {
                ServiceName = serviceName,
                Host = host.Ip,
                Port = host.Port,
                Scheme = secure ? "https" : "http",
                Weight = host.Weight,
                Healthy = host.Healthy,
                Enabled = host.Enabled,
                InstanceId = host.InstanceId,
                Metadata = host.Metadata,
            };
        }

        Array.Sort(instances, ByAddress);
        return instances;
    }

    /// <summary>The answer plus the cached instances it does not list (yet), in the same order as <see cref="Map"/>.</summary>
    public static ServiceInstance[] KeepMissing(IReadOnlyList<ServiceInstance> cached, ServiceInstance[] answer, out int kept)
    {
        var listed = new HashSet<(string, int)>();
        foreach (var instance in answer)
        {
            listed.Add((instance.Host, instance.Port));
        }

        var missing = new List<ServiceInstance>();
        foreach (var instance in cached)
        {
            if (!listed.Contains((instance.Host, instance.Port)))
            {
                missing.Add(instance);
            }
        }

        kept = missing.Count;
        if (kept == 0)
        {
            return answer;
        }

        ServiceInstance[] merged = [.. answer, .. missing];
        Array.Sort(merged, ByAddress);
        return merged;
    }

    public static string Signature(ServiceInstance[] instances)
    {
        var builder = new StringBuilder();
        foreach (var instance in instances)
        {
            builder.Append(instance.InstanceId).Append('|').Append(instance.Host).Append('|').Append(instance.Port)
                .Append('|').Append(instance.Weight.ToString("R", CultureInfo.InvariantCulture))
                .Append('|').Append(instance.Healthy).Append('|').Append(instance.Enabled).Append('|').Append(instance.Scheme);
            var keys = instance.Metadata.Keys.ToArray();
            Array.Sort(keys, StringComparer.Ordinal);
            foreach (var key in keys)
            {
                builder.Append('|').Append(key).Append('=').Append(instance.Metadata[key]);
            }

            builder.Append('\n');
        }

        return builder.ToString();
    }

    private static int ByAddress(ServiceInstance a, ServiceInstance b)
    {
        var byHost = string.CompareOrdinal(a.Host, b.Host);
        return byHost != 0 ? byHost : a.Port.CompareTo(b.Port);
    }
}
