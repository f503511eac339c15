using Microsoft.Extensions.Configuration;

namespace GrayRelease.Yarp.Tests.Infrastructure;

/// <summary>
/// A configuration source whose keys can be removed as well as set, then reloaded: what a Nacos config push that drops a
/// section does (the in-memory source can only set a key to null, never remove it).
/// </summary>
internal sealed class MutableConfigurationSource : IConfigurationSource
{
    private readonly Provider _provider = new();

    public IConfigurationProvider Build(IConfigurationBuilder builder) => _provider;

    /// <summary>Sets (value) or removes (null) keys, then raises one reload.</summary>
    public void Apply(params (string Key, string? Value)[] changes) => _provider.Apply(changes);

    /// <summary>Removes every key under <paramref name="prefix"/>, then raises one reload.</summary>
    public void RemoveSection(string prefix) => _provider.RemoveSection(prefix);

    private sealed class Provider : ConfigurationProvider
    {
        public void Apply((string Key, string? Value)[] changes)
        {
            foreach (var (key, value) in changes)
            {
                if (value is null)
                {
                    Data.Remove(key);
                }
                else
                {
                    Data[key] = value;
                }
            }

            OnReload();
        }

        public void RemoveSection(string prefix)
        {
            foreach (var key in Data.Keys.Where(k => k.StartsWith(prefix + ":", StringComparison.OrdinalIgnoreCase)).ToList())
            {
                Data.Remove(key);
            }

            OnReload();
        }
    }
}
