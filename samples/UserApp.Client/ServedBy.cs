namespace UserApp.Client;

/// <summary>Which instance answered: service name, its gray version, its port, and its lane (null: the baseline).</summary>
public sealed record ServedBy(string Service, string Version, int Port, string? Lane = null);
