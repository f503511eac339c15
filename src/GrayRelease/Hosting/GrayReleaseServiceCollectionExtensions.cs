using GrayRelease;
using GrayRelease.AspNetCore;
using GrayRelease.Diagnostics;
using GrayRelease.Discovery;
using GrayRelease.Http;
using GrayRelease.LoadBalancing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers GrayRelease: options, gray context middleware, propagation and version load balancing.</summary>
public static class GrayReleaseServiceCollectionExtensions
{
    /// <summary>
    /// Adds the gray-release core, bound to the <c>GrayRelease</c> section of <paramref name="configuration"/> and
    /// validated at start-up. Instances come from <c>GrayRelease:Instances</c> unless a registry integration
    /// (for example <c>AddNacos()</c>) replaces the <see cref="IServiceInstanceProvider"/>.
    /// </summary>
    public static IGrayReleaseBuilder AddGrayRelease(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<GrayReleaseOptions>()
            .Bind(configuration.GetSection(GrayReleaseOptions.SectionName))
            .ValidateOnStart()
            .KeepLastValidOnReload();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GrayReleaseOptions>, GrayReleaseOptionsValidator>());

        services.AddMetrics();
        services.AddHttpClient();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<GrayReleaseMetrics>();
        services.TryAddSingleton<IServiceInstanceProvider, ConfigurationServiceInstanceProvider>();
        services.TryAddSingleton<IGrayLoadBalancer, GrayLoadBalancer>();
        services.TryAddTransient<GrayPropagationHandler>();
        services.TryAddTransient<GrayLoadBalancingHandler>();
        services.TryAddSingleton<HttpClientServiceNames>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHttpMessageHandlerBuilderFilter, GrayReleaseHandlerOrderFilter>());

        return new GrayReleaseBuilder(services, configuration);
    }

    /// <summary>Adds the gray-release core from the application's own configuration (section <c>GrayRelease</c>).</summary>
    public static IGrayReleaseBuilder AddGrayRelease(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Services.AddGrayRelease(builder.Configuration);
    }

    /// <summary>
    /// Makes this HttpClient gray-aware: the current gray status is propagated as a header, and logical service
    /// addresses (<c>http://user-app/...</c>) are resolved to an instance of the wanted version. The propagation
    /// handler is placed outermost and the load-balancing handler innermost, whatever order other handlers (such as
    /// <c>AddStandardResilienceHandler()</c>) are added in, so each retry is balanced again.
    /// </summary>
    public static IHttpClientBuilder AddGrayRelease(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddHttpMessageHandler<GrayPropagationHandler>();
        builder.AddHttpMessageHandler<GrayLoadBalancingHandler>();

        // Post-configured so it runs after every ConfigureHttpClient, whatever the order of the calls: it reads the
        // base address as finally set, with the service name spelled as the user wrote it.
        var name = builder.Name;
        builder.Services.TryAddSingleton<HttpClientServiceNames>();
        builder.Services.AddOptions<HttpClientFactoryOptions>(name).PostConfigure<HttpClientServiceNames>((options, names) =>
        {
            var spelling = names.For(name);
            options.HttpClientActions.Add(client => spelling.Record(client.BaseAddress));
        });
        return builder;
    }

    private sealed class GrayReleaseBuilder(IServiceCollection services, IConfiguration configuration) : IGrayReleaseBuilder
    {
        public IServiceCollection Services { get; } = services;

        public IConfiguration Configuration { get; } = configuration;
    }
}
