namespace GrayRelease.Nacos.Emulator.Config;

/// <summary>Identifies a config: tenant (namespace; <c>public</c> is the empty tenant), group and data id.</summary>
internal readonly record struct ConfigKey(string Tenant, string Group, string DataId)
{
    public static ConfigKey Create(string? tenant, string group, string dataId) =>
        new(NormalizeTenant(tenant), group, dataId);

    public static string NormalizeTenant(string? tenant) =>
        string.IsNullOrWhiteSpace(tenant) || string.Equals(tenant.Trim(), "public", StringComparison.Ordinal)
            ? string.Empty
            : tenant.Trim();

    /// <summary>Letters, digits and <c>_ . - :</c>, like the server's <c>ParamUtils.isValid</c>.</summary>
    public static bool IsValidName(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        foreach (var ch in value)
        {
            if (!char.IsLetterOrDigit(ch) && ch is not ('_' or '.' or '-' or ':'))
            {
                return false;
            }
        }

        return true;
    }
}
