using GrayRelease.Discovery;
using GrayRelease.Grpc.Balancing;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.Logging.Abstractions;

namespace GrayRelease.Grpc.Tests;

/// <summary>
/// A <c>nacos://</c> channel's service is pinned in the provider while the channel lives: the load balancer's idle
/// sweep never sees the channel's picks, and must not make the provider stop refreshing it (issue 16).
/// </summary>
public sealed class ResolverPinTests
{
    [Fact]
    public async Task The_resolver_pins_its_service_from_start_to_dispose()
    {
        var provider = new PinningProvider();
        var resolver = new GrayResolver(provider, "user-app", NullLogger<GrayResolver>.Instance);
        var first = new TaskCompletionSource<ResolverResult>(TaskCreationOptions.RunContinuationsAsynchronously);

        resolver.Start(result => first.TrySetResult(result));
        await first.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("pin user-app", provider.Calls[0]);
        Assert.Equal(1, provider.Pinned);
        resolver.Dispose();
        Assert.Equal(0, provider.Pinned);
    }

    private sealed class PinningProvider : IServiceInstanceProvider, IServiceEvictionTarget
    {
        private readonly Lock _gate = new();
        private int _pinned;

        public event EventHandler<ServiceInstancesChangedEventArgs>? InstancesChanged
        {
            add { }
            remove { }
        }

        public List<string> Calls { get; } = [];

        public int Pinned => Volatile.Read(ref _pinned);

        public ValueTask<IReadOnlyList<ServiceInstance>?> GetInstancesAsync(string serviceName, CancellationToken cancellationToken = default)
        {
            lock (_gate)
            {
                Calls.Add("lookup " + serviceName);
            }

            return new(Array.Empty<ServiceInstance>());
        }

        public IDisposable Pin(string serviceName)
        {
            lock (_gate)
            {
                Calls.Add("pin " + serviceName);
            }

            Interlocked.Increment(ref _pinned);
            return new Release(() => Interlocked.Decrement(ref _pinned));
        }

        public ValueTask<bool> TryEvictAsync(string serviceName, CancellationToken cancellationToken) => ValueTask.FromResult(false);

        private sealed class Release(Action release) : IDisposable
        {
            public void Dispose() => release();
        }
    }
}
