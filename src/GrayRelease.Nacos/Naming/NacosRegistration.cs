namespace GrayRelease.Nacos.Naming;

/// <summary>What this application registers: one instance of one service.</summary>
internal sealed record NacosRegistration(
    string ServiceName,
    string GroupName,
    string ClusterName,
    string Ip,
    int Port,
    double Weight,
    bool Enabled,
    bool Ephemeral,
    IReadOnlyDictionary<string, string> Metadata)
{
    public string GroupedName => NacosNames.Grouped(ServiceName, GroupName);

    public override string ToString() => $"{GroupedName} {Ip}:{Port} ({ClusterName})";
}
