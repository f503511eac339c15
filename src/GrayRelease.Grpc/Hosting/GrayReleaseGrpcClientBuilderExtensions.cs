using Grpc.Core;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Grpc.Net.ClientFactory;
using GrayRelease;
using GrayRelease.Grpc;
using GrayRelease.Grpc.Balancing;
using GrayRelease.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Makes gRPC clients of Grpc.Net.ClientFactory gray-aware.</summary>
public static class GrayReleaseGrpcClientBuilderExtensions
{
    private const string GrpcClientPart = "GrpcClient:";
    private const string GrpcOptionsPart = "GrpcOptions";
    private const string GrpcSection = "Grpc";

    /// <summary>
    /// Makes this gRPC client (from <c>AddGrpcClient&lt;T&gt;(o =&gt; o.Address = new Uri("nacos://user-app"))</c>)
    /// gray-aware: the current gray status and lane travel as call metadata under the names of the HTTP headers, and the
    /// channel resolves the service's instances from the registry and picks, per call and per retry attempt, an instance
    /// of the version and lane the call's <see cref="GrayContext"/> wants. The address must use the <c>nacos</c> scheme
    /// (whatever the instance provider is); the channel is plaintext HTTP/2 unless <c>ConfigureChannel</c> sets
    /// <c>GrpcChannelOptions.Credentials</c>. Named <c>AddGrayReleaseGrpc</c>, not <c>AddGrayRelease</c>: the
    /// builder is an <see cref="IHttpClientBuilder"/>, whose <c>AddGrayRelease()</c> is the HttpClient integration.
    /// </summary>
    public static IHttpClientBuilder AddGrayReleaseGrpc(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var name = builder.Name;
        if (!builder.Services.AddGrayReleaseCore().TryAdd(GrpcClientPart + name))
        {
            return builder;
        }

        builder.Services.TryAddSingleton<GrayOptionsSnapshot>();
        AddGrpcOptions(builder.Services);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ResolverFactory, GrayResolverFactory>());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<LoadBalancerFactory, GrayLoadBalancerFactory>());

        // gRPC metadata are HTTP/2 headers, and the channel sends each call attempt through this client's handler chain
        // in the call's own flow: the HttpClient propagation handler puts the status and lane on it (unless the call's
        // metadata already has them) as on any HTTP request. A gRPC interceptor did the same at ≈ 220 B more per call
        // (a Metadata copy and the interceptor's continuation delegate); see docs/benchmarks.md, gRPC (issue 15).
        builder.AddHttpMessageHandler<GrayPropagationHandler>();

        // Post-configured so it sees the address and channel settings as finally set, whatever the order of the calls.
        builder.Services.AddOptions<GrpcClientFactoryOptions>(name).PostConfigure(options =>
        {
            if (options.Address is { } address && !string.Equals(address.Scheme, GrayGrpcNames.Scheme, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(
                    $"gRPC client '{name}' uses AddGrayReleaseGrpc(), so its address must name a service as '{GrayGrpcNames.Scheme}://<service>' (for example nacos://user-app); it is '{address}'.");
            }

            options.ChannelOptionsActions.Add(channel =>
            {
                // A nacos:// address says nothing about TLS: plaintext HTTP/2 unless the application chose credentials.
                channel.Credentials ??= ChannelCredentials.Insecure;
                var config = channel.ServiceConfig ??= new ServiceConfig();
                if (!config.LoadBalancingConfigs.Any(policy => string.Equals(policy.PolicyName, GrayGrpcNames.Policy, StringComparison.Ordinal)))
                {
                    // The channel uses the first policy it knows: ours goes first.
                    config.LoadBalancingConfigs.Insert(0, new LoadBalancingConfig(GrayGrpcNames.Policy));
                }
            });
        });
        return builder;
    }

    private static void AddGrpcOptions(IServiceCollection services)
    {
        var registration = services.AddGrayReleaseCore();
        if (!registration.TryAdd(GrpcOptionsPart))
        {
            return;
        }

        // GrayRelease:Grpc, from the configuration the core reads (AddGrayRelease(configuration), else the container's).
        services.AddOptions<GrayReleaseGrpcOptions>()
            .Configure<IServiceProvider>((options, provider) => registration.GetSection(provider).GetSection(GrpcSection).Bind(options))
            .ValidateOnStart()
            .KeepLastValidOnReload();
        services.AddSingleton<IOptionsChangeTokenSource<GrayReleaseGrpcOptions>>(provider =>
            new ConfigurationChangeTokenSource<GrayReleaseGrpcOptions>(registration.GetSection(provider).GetSection(GrpcSection)));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GrayReleaseGrpcOptions>, GrayReleaseGrpcOptionsValidator>());
    }
}
