using GrayRelease;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Options behaviour GrayRelease relies on for settings that reload live (from Nacos config, for example).</summary>
public static class GrayReleaseOptionsBuilderExtensions
{
    /// <summary>
    /// When a configuration reload makes these options invalid, keep the last valid value (and log an error naming the
    /// keys) instead of throwing from <see cref="IOptionsMonitor{TOptions}.CurrentValue"/> on every later read. The
    /// value at start-up is validated as usual.
    /// </summary>
    public static OptionsBuilder<TOptions> KeepLastValidOnReload<TOptions>(this OptionsBuilder<TOptions> builder)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddLogging();
        builder.Services.TryAddSingleton<IOptionsMonitor<TOptions>, LastValidOptionsMonitor<TOptions>>();
        return builder;
    }
}
