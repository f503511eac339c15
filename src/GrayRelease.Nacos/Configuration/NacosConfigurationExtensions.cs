using GrayRelease.Nacos;
using GrayRelease.Nacos.Configuration;

namespace Microsoft.Extensions.Configuration;

/// <summary>Adds Nacos configurations (dataIds) to an <see cref="IConfigurationBuilder"/>.</summary>
public static class NacosConfigurationExtensions
{
    /// <summary>
    /// Loads the dataIds of <c>nacos:Listeners</c> (JSON, YAML or .properties) and reloads them live when they change in Nacos.
    /// The <c>nacos</c> section is read from the sources added before this one.
    /// </summary>
    public static IConfigurationBuilder AddNacosConfiguration(this IConfigurationBuilder builder) =>
        builder.AddNacosConfiguration(static _ => { });

    /// <summary>
    /// Loads the dataIds of <c>nacos:Listeners</c> and reloads them live; <paramref name="configure"/> adjusts the
    /// source (for example sets <see cref="NacosConfigurationSource.Options"/>).
    /// </summary>
    public static IConfigurationBuilder AddNacosConfiguration(this IConfigurationBuilder builder, Action<NacosConfigurationSource> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var source = new NacosConfigurationSource();
        ArgumentNullException.ThrowIfNull(configure);
        configure(source);
        return builder.Add(source);
    }

    /// <summary>Loads the dataIds of <paramref name="options"/>'s <see cref="NacosOptions.Listeners"/> and reloads them live.</summary>
    public static IConfigurationBuilder AddNacosConfiguration(this IConfigurationBuilder builder, NacosOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return builder.AddNacosConfiguration(source => source.Options = options);
    }
}
