using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GrayRelease;

/// <summary>
/// What GrayRelease has registered in one service collection, kept in the collection itself (a singleton instance) so
/// that every entry point finds it while services are still being registered. It is the one idiom for repeat calls:
/// each <c>AddGrayRelease</c> asks it first (<see cref="TryAdd"/>) and registers nothing a second time.
/// </summary>
internal sealed class GrayReleaseRegistration
{
    private readonly HashSet<string> _parts = new(StringComparer.Ordinal);

    /// <summary>
    /// The configuration passed to <c>services.AddGrayRelease(configuration)</c>; <see langword="null"/> when only
    /// stand-alone entry points were called, which then read the container's <see cref="IConfiguration"/> at resolve
    /// time, as <c>OptionsBuilder.BindConfiguration</c> does. Held here rather than bound on the spot so the section is
    /// bound once whatever the order of the calls: binding twice would append every list entry again.
    /// </summary>
    public IConfiguration? Configuration { get; set; }

    /// <summary>The part of the registration (the core, a named HttpClient, the gateway) is new: register it now.</summary>
    public bool TryAdd(string part) => _parts.Add(part);

    public static GrayReleaseRegistration? Find(IServiceCollection services)
    {
        foreach (var descriptor in services)
        {
            // ImplementationInstance throws on a keyed descriptor: test IsKeyedService first.
            if (descriptor.ServiceType == typeof(GrayReleaseRegistration) && !descriptor.IsKeyedService
                && descriptor.ImplementationInstance is GrayReleaseRegistration registration)
            {
                return registration;
            }
        }

        return null;
    }

    /// <summary>The <c>GrayRelease</c> section, from the configuration given at registration or else the container's.</summary>
    public IConfigurationSection GetSection(IServiceProvider provider)
    {
        var configuration = Configuration
            ?? provider.GetService<IConfiguration>()
            ?? throw new InvalidOperationException(
                "GrayRelease reads its settings from the section 'GrayRelease' of the IConfiguration in the container, and the " +
                "container has none: call services.AddGrayRelease(configuration), or build the application with a host builder " +
                "(which registers its configuration).");
        return configuration.GetSection(GrayReleaseOptions.SectionName);
    }
}
