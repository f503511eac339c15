namespace GrayRelease.Nacos.Naming;

/// <summary>A Nacos instance-list answer (<c>GET v1/ns/instance/list</c>, or the <c>data</c> of a UDP push).</summary>
internal sealed record NacosServiceInfo(
    string Name,
    string? GroupName,
    string Clusters,
    long CacheMillis,
    long LastRefTime,
    IReadOnlyList<NacosHost> Hosts)
{
    /// <summary>The service name without its <c>group@@</c> prefix.</summary>
    public string BareName => NacosNames.BareName(Name);
}
