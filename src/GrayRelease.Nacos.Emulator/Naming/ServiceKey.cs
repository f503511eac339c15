namespace GrayRelease.Nacos.Emulator.Naming;

/// <summary>Identifies one service: namespace, group and bare name.</summary>
internal readonly record struct ServiceKey(string NamespaceId, string GroupName, string ServiceName)
{
    public const string DefaultNamespace = "public";
    public const string DefaultGroup = "DEFAULT_GROUP";
    public const string GroupSeparator = "@@";

    public string GroupedName => GroupName + GroupSeparator + ServiceName;

    /// <summary>
    /// Resolves a service name as clients send it: grouped (<c>group@@name</c>, which wins) or bare plus a group.
    /// Returns null when the name is malformed (an empty part, like <c>@@name</c>).
    /// </summary>
    public static ServiceKey? Create(string? namespaceId, string serviceName, string? groupName)
    {
        serviceName = serviceName.Trim();
        string group;
        string name;
        var separator = serviceName.IndexOf(GroupSeparator, StringComparison.Ordinal);
        if (separator >= 0)
        {
            group = serviceName[..separator];
            name = serviceName[(separator + GroupSeparator.Length)..];
        }
        else
        {
            group = string.IsNullOrWhiteSpace(groupName) ? DefaultGroup : groupName.Trim();
            name = serviceName;
        }

        if (string.IsNullOrWhiteSpace(group) || string.IsNullOrWhiteSpace(name)
            || name.Contains(GroupSeparator, StringComparison.Ordinal))
        {
            return null;
        }

        return new ServiceKey(NormalizeNamespace(namespaceId), group, name);
    }

    /// <summary>Nacos treats the empty namespace and <c>public</c> as the same one.</summary>
    public static string NormalizeNamespace(string? namespaceId) =>
        string.IsNullOrWhiteSpace(namespaceId) ? DefaultNamespace : namespaceId.Trim();
}
