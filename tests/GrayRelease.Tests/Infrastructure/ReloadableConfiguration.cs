using Microsoft.Extensions.Configuration;

namespace GrayRelease.Tests.Infrastructure;

/// <summary>A configuration source whose whole content a test replaces, firing a reload like a Nacos push would.</summary>
internal sealed class ReloadableConfiguration : IConfigurationSource
{
    public ReloadableProvider Provider { get; } = new();

    public IConfigurationProvider Build(IConfigurationBuilder builder) => Provider;

    public void Replace(Dictionary<string, string?> data) => Provider.Replace(data);

    internal sealed class ReloadableProvider : ConfigurationProvider
    {
        public void Replace(Dictionary<string, string?> data)
        {
            Data = new Dictionary<string, string?>(data, StringComparer.OrdinalIgnoreCase);
            OnReload();
        }
    }
}
