using GrayRelease;
using GrayRelease.Discovery;
using GrayRelease.Yarp;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.ServiceDiscovery;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the gray gateway to YARP.</summary>
public static class GrayReleaseReverseProxyBuilderExtensions
{
    private const string GatewayPart = "Gateway";

    /// <summary>
    /// Registers the gray gateway: <see cref="GrayGatewayOptions"/> (section <c>GrayRelease:Gateway</c>, validated at
    /// start-up), the gray rules, the <c>GrayRoundRobin</c> load-balancing policy, the transform that sets the outgoing
    /// gray header, and destinations from <see cref="IServiceInstanceProvider"/> for destinations whose metadata names a
    /// service. Call it after any other destination resolver registration (it wraps the one registered before it), and
    /// add the pipeline steps with <c>app.MapReverseProxy(proxy =&gt; proxy.UseGrayRouting())</c>. Stands alone: it
    /// registers the gray-release core too (section <c>GrayRelease</c> of the container's configuration: versions,
    /// <c>NoInstancePolicy</c>, instances) when <c>AddGrayRelease()</c> on the host builder was not called; calling it
    /// again registers nothing twice.
    /// </summary>
    public static IReverseProxyBuilder AddGrayRelease(this IReverseProxyBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (!services.AddGrayReleaseCore().TryAdd(GatewayPart))
        {
            return builder;
        }

        services.AddOptions<GrayGatewayOptions>()
            .BindConfiguration(GrayGatewayOptions.SectionName)
            .Configure<IConfiguration>(RangeKeyedCities.Apply)
            .ValidateOnStart()
            .KeepLastValidOnReload();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GrayGatewayOptions>, GrayGatewayOptionsValidator>());
        services.AddMetrics();
        services.TryAddSingleton<ICityResolver, GeoIPCityResolver>();
        services.TryAddSingleton<GrayDecisionEngine>();
        services.TryAddSingleton<GatewayMetrics>();
        services.TryAddSingleton<VersionFilter>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoadBalancingPolicy, GrayRoundRobinLoadBalancingPolicy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITransformProvider, GrayHeaderTransformProvider>());
        DecorateDestinationResolver(services);
        return builder;
    }

    private static void DecorateDestinationResolver(IServiceCollection services)
    {
        ServiceDescriptor? previous = null;
        for (var i = services.Count - 1; i >= 0; i--)
        {
            if (services[i].ServiceType == typeof(IDestinationResolver) && !services[i].IsKeyedService)
            {
                previous ??= services[i];
                services.RemoveAt(i);
            }
        }

        services.AddSingleton<IDestinationResolver>(provider => new ServiceInstanceDestinationResolver(
            provider.GetService<IServiceInstanceProvider>(),
            previous is null ? null : (IDestinationResolver)Create(provider, previous),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILogger<ServiceInstanceDestinationResolver>>()));
    }

    private static object Create(IServiceProvider provider, ServiceDescriptor descriptor) =>
        descriptor.ImplementationInstance
        ?? descriptor.ImplementationFactory?.Invoke(provider)
        ?? ActivatorUtilities.CreateInstance(provider, descriptor.ImplementationType!);
}
