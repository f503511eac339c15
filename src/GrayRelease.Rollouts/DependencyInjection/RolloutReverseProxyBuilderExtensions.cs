using System.Diagnostics.Metrics;
using GrayRelease.Nacos.Configuration;
using GrayRelease.Rollouts;
using GrayRelease.Yarp;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the progressive rollout to the gray gateway.</summary>
public static class RolloutReverseProxyBuilderExtensions
{
    /// <summary>
    /// Adds the gray gateway (<c>AddGrayRelease()</c>) if not yet added, the request observer and the rollout engine
    /// bound from <c>GrayRelease:Gateway:Rollout</c> (validated at start-up, live reload). Needs Nacos
    /// (<c>services.AddGrayRelease(configuration).AddNacos()</c>): state and lease live there. Add the observer to the
    /// proxy pipeline with <c>proxy.UseGrayReleaseObservation()</c>.
    /// </summary>
    public static IReverseProxyBuilder AddGrayReleaseRollout(this IReverseProxyBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddGrayRelease();
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(RolloutEngine)))
        {
            return builder;
        }

        services.AddOptions<RolloutOptions>()
            .BindConfiguration(RolloutOptions.SectionName)
            .ValidateOnStart()
            .KeepLastValidOnReload();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RolloutOptions>, RolloutOptionsValidator>());
        services.AddMetrics();
        services.AddAntiforgery();   // the operations page's commands (MapGrayReleaseDashboard) are validated with it
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<TrafficObserver>();
        DecorateForwarder(services);
        services.TryAddSingleton<RolloutPercentage>();
        services.AddSingleton<IPostConfigureOptions<GrayGatewayOptions>>(sp => sp.GetRequiredService<RolloutPercentage>());
        services.AddSingleton<IOptionsChangeTokenSource<GrayGatewayOptions>>(sp => sp.GetRequiredService<RolloutPercentage>());
        services.TryAddSingleton(sp => new RolloutTelemetry(sp.GetRequiredService<IMeterFactory>(), () => sp.GetRequiredService<RolloutPercentage>().Current));
        services.AddSingleton(sp => new RolloutEngine(
            sp.GetRequiredService<IOptionsMonitor<RolloutOptions>>(),
            sp.GetRequiredService<IOptionsMonitor<GrayRelease.GrayReleaseOptions>>(),
            sp.GetRequiredService<IOptionsMonitor<GrayGatewayOptions>>(),
            sp.GetRequiredService<TrafficObserver>(),
            sp.GetService<INacosConfigPublisher>() ?? throw new InvalidOperationException(
                "The gray rollout keeps its state in Nacos: add Nacos to GrayRelease first (builder.Services.AddGrayRelease(builder.Configuration).AddNacos(), with nacos:ServerAddresses set)."),
            sp.GetRequiredService<RolloutPercentage>(),
            sp.GetRequiredService<RolloutTelemetry>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<RolloutEngine>>()));
        services.TryAddSingleton<IRolloutStatus>(sp => sp.GetRequiredService<RolloutEngine>());
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<RolloutEngine>());
        return builder;
    }

    /// <summary>
    /// Wraps the registered <see cref="IHttpForwarder"/> (YARP's, or one registered before this call) in the
    /// <see cref="ObservingForwarder"/>, with the same lifetime: YARP's forwarder middleware resolves it from here.
    /// </summary>
    private static void DecorateForwarder(IServiceCollection services)
    {
        var index = -1;
        for (var i = services.Count - 1; i >= 0; i--)
        {
            if (services[i].ServiceType == typeof(IHttpForwarder) && !services[i].IsKeyedService)
            {
                index = i;
                break;
            }
        }

        if (index < 0)
        {
            throw new InvalidOperationException("No IHttpForwarder is registered: call AddReverseProxy() before AddGrayReleaseRollout().");
        }

        var inner = services[index];
        services[index] = ServiceDescriptor.Describe(
            typeof(IHttpForwarder),
            sp => new ObservingForwarder(CreateInner(sp, inner), sp.GetRequiredService<TrafficObserver>()),
            inner.Lifetime);
    }

    private static IHttpForwarder CreateInner(IServiceProvider services, ServiceDescriptor descriptor) =>
        (IHttpForwarder)(descriptor.ImplementationInstance
            ?? descriptor.ImplementationFactory?.Invoke(services)
            ?? ActivatorUtilities.CreateInstance(services, descriptor.ImplementationType!));
}
