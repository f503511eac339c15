using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using GrayRelease.Grpc.Benchmarks.Protos;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GrayRelease.Grpc.Benchmarks;

/// <summary>The two clients compared, both made by Grpc.Net.ClientFactory, over the same servers.</summary>
internal static class Clients
{
    /// <summary>
    /// The gray client as an application sets it up: <c>AddGrpcClient&lt;T&gt;(nacos://service).AddGrayReleaseGrpc()</c>,
    /// instances from configuration (<c>GrayRelease:Instances</c>, the configuration instance provider).
    /// </summary>
    public static ServiceProvider Gray(string service, IEnumerable<Backend> backends, IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["GrayRelease:ProdVersion"] = "v1",
            ["GrayRelease:GrayVersion"] = "v2",
        };
        AddInstances(settings, service, backends);
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddGrayRelease(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddGrpcClient<Bench.BenchClient>(o => o.Address = new Uri($"nacos://{service}")).AddGrayReleaseGrpc();
        return services.BuildServiceProvider();
    }

    /// <summary>The plain client: Grpc.Net.Client's <c>round_robin</c> policy over the same addresses (a static resolver).</summary>
    public static ServiceProvider Plain(string service, IEnumerable<Backend> backends)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        ConfigurePlain(services, service, backends);
        return services.BuildServiceProvider();
    }

    public static void ConfigurePlain(IServiceCollection services, string service, IEnumerable<Backend> backends)
    {
        var addresses = backends.Select(b => new BalancerAddress(b.Address.Host, b.Address.Port)).ToArray();
        services.AddSingleton<ResolverFactory>(new StaticResolverFactory(_ => addresses));
        services.AddGrpcClient<Bench.BenchClient>(o => o.Address = new Uri($"static:///{service}")).ConfigureChannel(o =>
        {
            o.Credentials = ChannelCredentials.Insecure;
            o.ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new RoundRobinConfig() } };
        });
    }

    public static void AddInstances(IDictionary<string, string?> settings, string service, IEnumerable<Backend> backends)
    {
        var i = 0;
        foreach (var backend in backends)
        {
            var prefix = string.Create(CultureInfo.InvariantCulture, $"GrayRelease:Instances:{service}:{i++}:");
            settings[prefix + "Address"] = backend.Address.GetLeftPart(UriPartial.Authority);
            settings[prefix + "Version"] = backend.Version;
        }
    }

    /// <summary>Calls until every instance of the wanted versions has answered (the channel connects lazily), or fails.</summary>
    public static async Task WarmUpAsync(Bench.BenchClient client, Func<WhoRequest, Bench.BenchClient, Task<string>> call, IReadOnlyDictionary<GrayStatus, string>? expected)
    {
        foreach (var status in new[] { GrayStatus.Gray, GrayStatus.Prod })
        {
            for (var i = 0; i < 50; i++)
            {
                string version;
                using (GrayContext.Begin(status))
                {
                    version = await call(new WhoRequest(), client);
                }

                if (expected is not null && version != expected[status])
                {
                    throw new InvalidOperationException($"A {status} call reached {version}, expected {expected[status]}.");
                }
            }
        }
    }
}

/// <summary>A server the clients call: its version and address.</summary>
internal sealed record Backend(string Version, Uri Address);
