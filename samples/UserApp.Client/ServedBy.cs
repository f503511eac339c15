namespace UserApp.Client;

/// <summary>Which instance answered: service name, its gray version and its port.</summary>
public sealed record ServedBy(string Service, string Version, int Port);
