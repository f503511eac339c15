using GrayRelease;
using GrayRelease.AspNetCore;
using GrayRelease.Diagnostics;
using GrayRelease.Discovery;
using GrayRelease.Http;
using GrayRelease.LoadBalancing;
using GrayRelease.Propagation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers GrayRelease: options, gray context middleware, propagation and version load balancing.</summary>
public static class GrayReleaseServiceCollectionExtensions
{
    private const string HttpClientPart = "HttpClient:";

    /// <summary>
    /// Adds the gray-release core, bound to the <c>GrayRelease</c> section of <paramref name="configuration"/> and
    /// validated at start-up. Instances come from <c>GrayRelease:Instances</c> unless a registry integration
    /// (for example <c>AddNacos()</c>) replaces the <see cref="IServiceInstanceProvider"/>. Calling it again, or
    /// after another <c>AddGrayRelease</c>, registers nothing twice.
    /// </summary>
    public static IGrayReleaseBuilder AddGrayRelease(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        // Whatever the order of the calls, the section is bound once, from this configuration.
        services.AddGrayReleaseCore().Configuration = configuration;
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
    /// <c>AddStandardResilienceHandler()</c>) are added in, so each retry is balanced again. Stands alone: without
    /// <c>AddGrayRelease()</c> on the host builder, the options come from the section <c>GrayRelease</c> of the
    /// container's <see cref="IConfiguration"/>, validated at start-up.
    /// </summary>
    public static IHttpClientBuilder AddGrayRelease(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var name = builder.Name;
        if (!builder.Services.AddGrayReleaseCore().TryAdd(HttpClientPart + name))
        {
            return builder;
        }

        builder.AddHttpMessageHandler<GrayPropagationHandler>();
        builder.AddHttpMessageHandler<GrayLoadBalancingHandler>();

        // Post-configured so it runs after every ConfigureHttpClient, whatever the order of the calls: it reads the
        // base address as finally set, with the service name spelled as the user wrote it.
        builder.Services.AddOptions<HttpClientFactoryOptions>(name).PostConfigure<HttpClientServiceNames>((options, names) =>
        {
            var spelling = names.For(name);
            options.HttpClientActions.Add(client => spelling.Record(client.BaseAddress));
        });
        return builder;
    }

    /// <summary>
    /// Registers what every entry point needs (options bound and validated at start-up, metrics, the instance provider,
    /// the load balancer, the HttpClient handlers and their order filter), once per service collection; each public
    /// <c>AddGrayRelease</c> calls it first, so each stands alone (as dotnet/extensions' <c>AddServiceDiscovery</c>
    /// calls <c>AddServiceDiscoveryCore</c>). The returned record tells the caller whether its own part is new.
    /// </summary>
    internal static GrayReleaseRegistration AddGrayReleaseCore(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var registration = GrayReleaseRegistration.Find(services);
        if (registration is not null)
        {
            return registration;
        }

        registration = new GrayReleaseRegistration();
        services.AddSingleton(registration);

        // OptionsBuilder.BindConfiguration(path) reads the container's IConfiguration at resolve time; this does the same,
        // except that a configuration given to AddGrayRelease(configuration) wins, even when given after this call.
        services.AddOptions<GrayReleaseOptions>()
            .Configure<IServiceProvider>((options, provider) => registration.GetSection(provider).Bind(options))
            .ValidateOnStart()
            .KeepLastValidOnReload();
        services.AddSingleton<IOptionsChangeTokenSource<GrayReleaseOptions>>(provider =>
            new ConfigurationChangeTokenSource<GrayReleaseOptions>(registration.GetSection(provider)));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GrayReleaseOptions>, GrayReleaseOptionsValidator>());

        services.AddMetrics();
        services.AddHttpClient();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<GrayReleaseMetrics>();
        services.TryAddSingleton<MalformedBaggageReporter>();
        services.TryAddSingleton<IServiceInstanceProvider, ConfigurationServiceInstanceProvider>();
        services.TryAddSingleton<IGrayLoadBalancer, GrayLoadBalancer>();
        services.TryAddTransient<GrayPropagationHandler>();
        services.TryAddTransient<GrayLoadBalancingHandler>();
        services.TryAddSingleton<HttpClientServiceNames>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHttpMessageHandlerBuilderFilter, GrayReleaseHandlerOrderFilter>());
        return registration;
    }

    private sealed class GrayReleaseBuilder(IServiceCollection services, IConfiguration configuration) : IGrayReleaseBuilder
    {
        public IServiceCollection Services { get; } = services;

        public IConfiguration Configuration { get; } = configuration;
    }
}
