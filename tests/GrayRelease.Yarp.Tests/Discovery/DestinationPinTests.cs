using GrayRelease.Discovery;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Yarp.ReverseProxy.Configuration;

namespace GrayRelease.Yarp.Tests.Discovery;

/// <summary>
/// Services named in the proxy configuration are pinned in the provider, so the load balancer's idle sweep (which sees
/// none of the gateway's picks) never makes the provider stop refreshing them (issue 16).
/// </summary>
public sealed class DestinationPinTests
{
    [Fact]
    public async Task Each_configured_service_is_pinned_once_before_its_lookup_and_released_with_the_resolver()
    {
        var provider = new PinningProvider();
        var resolver = new ServiceInstanceDestinationResolver(provider, null, new FakeTimeProvider(), NullLogger<ServiceInstanceDestinationResolver>.Instance);
        var destinations = new Dictionary<string, DestinationConfig>
        {
            ["a"] = new() { Address = "http://order-app", Metadata = new Dictionary<string, string> { [GrayReleaseProxy.ServiceMetadataKey] = "order-app" } },
            ["b"] = new() { Address = "http://user-app", Metadata = new Dictionary<string, string> { [GrayReleaseProxy.ServiceMetadataKey] = "user-app" } },
        };

        await resolver.ResolveDestinationsAsync(destinations, CancellationToken.None);
        await resolver.ResolveDestinationsAsync(destinations, CancellationToken.None);

        Assert.Equal(["pin order-app", "lookup order-app", "pin user-app", "lookup user-app", "lookup order-app", "lookup user-app"], provider.Calls);
        Assert.Equal(2, provider.Pinned);
        resolver.Dispose();
        Assert.Equal(0, provider.Pinned);
    }

    private sealed class PinningProvider : IServiceInstanceProvider, IServiceEvictionTarget
    {
        public event EventHandler<ServiceInstancesChangedEventArgs>? InstancesChanged
        {
            add { }
            remove { }
        }

        public List<string> Calls { get; } = [];

        public int Pinned { get; private set; }

        public ValueTask<IReadOnlyList<ServiceInstance>?> GetInstancesAsync(string serviceName, CancellationToken cancellationToken = default)
        {
            Calls.Add("lookup " + serviceName);
            return new(Array.Empty<ServiceInstance>());
        }

        public IDisposable Pin(string serviceName)
        {
            Calls.Add("pin " + serviceName);
            Pinned++;
            return new Release(() => Pinned--);
        }

        public ValueTask<bool> TryEvictAsync(string serviceName, CancellationToken cancellationToken) => ValueTask.FromResult(false);

        private sealed class Release(Action release) : IDisposable
        {
            public void Dispose() => release();
        }
    }
}
