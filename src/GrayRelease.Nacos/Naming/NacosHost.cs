namespace GrayRelease.Nacos.Naming;

/// <summary>One host of a Nacos instance-list answer.</summary>
internal sealed record NacosHost(
    string? InstanceId,
    string Ip,
    int Port,
    double Weight,
    bool Healthy,
    bool Enabled,
    bool Ephemeral,
    string? ClusterName,
    string? ServiceName,
    IReadOnlyDictionary<string, string> Metadata);
