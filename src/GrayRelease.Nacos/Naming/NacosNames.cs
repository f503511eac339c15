namespace GrayRelease.Nacos.Naming;

/// <summary>Nacos's <c>group@@service</c> naming.</summary>
internal static class NacosNames
{
    public const string DefaultGroup = "DEFAULT_GROUP";
    public const string Separator = "@@";

    public static string Grouped(string serviceName, string? groupName) =>
        serviceName.Contains(Separator, StringComparison.Ordinal)
            ? serviceName
            : (string.IsNullOrEmpty(groupName) ? DefaultGroup : groupName) + Separator + serviceName;

    public static string BareName(string name)
    {
        var index = name.IndexOf(Separator, StringComparison.Ordinal);
        return index < 0 ? name : name[(index + Separator.Length)..];
    }
}
