using GrayRelease.Discovery;
using GrayRelease.Nacos;
using GrayRelease.Nacos.Configuration;
using GrayRelease.Nacos.Discovery;
using GrayRelease.Nacos.Grpc;
using GrayRelease.Nacos.Http;
using GrayRelease.Nacos.Naming;
using GrayRelease.Nacos.Registration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Nacos (registration, discovery, configuration) to GrayRelease.</summary>
public static class NacosGrayReleaseBuilderExtensions
{
    private const string NacosPart = "Nacos";

    /// <summary>
    /// Binds <see cref="NacosOptions"/> from the <c>nacos</c> section (validated at start-up), registers this application
    /// with Nacos after the web server has bound, makes <see cref="NacosServiceInstanceProvider"/> the
    /// <see cref="IServiceInstanceProvider"/>, and, when <c>nacos:Listeners</c> is set and the configuration can take
    /// sources, loads those dataIds into configuration with live reload.
    /// </summary>
    public static IGrayReleaseBuilder AddNacos(this IGrayReleaseBuilder builder, Action<NacosOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var optionsBuilder = services.AddOptions<NacosOptions>();
        var section = builder.Configuration.GetSection(NacosOptions.SectionName);

        // A second call may add a configure delegate, but binding twice would append every list entry again. The core's
        // registration record answers "already registered" for every GrayRelease entry point, this one included.
        var firstCall = services.AddGrayReleaseCore().TryAdd(NacosPart);
        if (firstCall)
        {
            optionsBuilder.Bind(section).ValidateOnStart();
        }

        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        if (!firstCall)
        {
            return builder;
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NacosOptions>, NacosOptionsValidator>());
        services.TryAddSingleton<NacosGrpcEndpoint>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new NacosHttpClient(
            sp.GetRequiredService<IOptions<NacosOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("GrayRelease.Nacos.Http")));
        services.TryAddSingleton(sp => new NacosNamingClient(
            sp.GetRequiredService<NacosHttpClient>(),
            sp.GetRequiredService<IOptions<NacosOptions>>().Value,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("GrayRelease.Nacos.Naming")));
        // One gRPC connection per application (started only when a gRPC transport is chosen), labelled module=naming;
        // its token comes from the HTTP login.
        services.TryAddSingleton(sp => new NacosGrpcConnection(
            sp.GetRequiredService<IOptions<NacosOptions>>().Value,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("GrayRelease.Nacos.Grpc"),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<NacosHttpClient>().GetAccessTokenAsync,
            relogin: sp.GetRequiredService<NacosHttpClient>().ReloginAsync));
        services.TryAddSingleton(sp => new NacosNamingTransportSelector(
            sp.GetRequiredService<IOptions<NacosOptions>>().Value,
            sp.GetRequiredService<NacosNamingClient>(),
            sp.GetRequiredService<NacosHttpClient>(),
            sp.GetRequiredService<NacosGrpcConnection>,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("GrayRelease.Nacos.Naming"),
            sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new NacosServiceInstanceProvider(
            sp.GetRequiredService<NacosNamingTransportSelector>(),
            sp.GetRequiredService<NacosHttpClient>(),
            sp.GetRequiredService<IOptions<NacosOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<NacosServiceInstanceProvider>>()));
        // Config writes (compare-and-set on md5) for programs that keep shared state in Nacos, e.g. the rollout engine.
        services.TryAddSingleton<INacosConfigPublisher>(sp => new NacosConfigPublisher(
            sp.GetRequiredService<IOptions<NacosOptions>>().Value,
            sp.GetRequiredService<NacosHttpClient>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>()));
        services.Replace(ServiceDescriptor.Singleton<IServiceInstanceProvider>(sp => sp.GetRequiredService<NacosServiceInstanceProvider>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, NacosRegistrationService>(sp => new NacosRegistrationService(
            sp.GetRequiredService<NacosNamingTransportSelector>(),
            sp.GetRequiredService<NacosNamingClient>(),
            sp.GetRequiredService<IOptions<NacosOptions>>(),
            sp.GetRequiredService<IOptionsMonitor<GrayRelease.GrayReleaseOptions>>(),
            sp,
            sp.GetRequiredService<IHostEnvironment>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<NacosRegistrationService>>())));

        var listeners = new NacosOptions();
        section.Bind(listeners);
        configure?.Invoke(listeners);
        if (listeners.Listeners.Count > 0 && builder.Configuration is IConfigurationBuilder configurationBuilder
            && !HasNacosSource(configurationBuilder))
        {
            configurationBuilder.AddNacosConfiguration(listeners);
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, NacosConfigurationLoggerBinder>());
        }

        return builder;
    }

    private static bool HasNacosSource(IConfigurationBuilder builder)
    {
        foreach (var source in builder.Sources)
        {
            if (source is NacosConfigurationSource)
            {
                return true;
            }
        }

        return false;
    }
}
