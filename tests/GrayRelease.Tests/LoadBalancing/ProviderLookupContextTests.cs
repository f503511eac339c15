using System.Diagnostics;
using System.Diagnostics.Metrics;
using GrayRelease.Diagnostics;
using GrayRelease.Discovery;
using GrayRelease.LoadBalancing;
using GrayRelease.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace GrayRelease.Tests.LoadBalancing;

/// <summary>
/// The first lookup of a service happens inside a request; a registry provider typically starts its refresh loop
/// there. That loop lives for the whole process and must not carry the first request's gray tag or Activity.
/// </summary>
public sealed class ProviderLookupContextTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    [Fact]
    public async Task Work_a_provider_starts_during_the_first_lookup_carries_no_gray_tag_and_no_activity()
    {
        var provider = new LoopStartingProvider();
        using var balancer = new GrayLoadBalancer(
            provider,
            new TestOptionsMonitor<GrayReleaseOptions>(new GrayReleaseOptions()),
            TimeProvider.System,
            new GrayReleaseMetrics(_services.GetRequiredService<IMeterFactory>()),
            NullLogger<GrayLoadBalancer>.Instance);

        using (new Activity("request").Start())
        using (GrayContext.Begin(GrayStatus.Gray))
        {
            Assert.NotNull(await balancer.PickAsync("user-app", GrayStatus.Gray));

            // The caller's own flow is untouched.
            Assert.Equal(GrayStatus.Gray, GrayContext.Current);
            Assert.NotNull(Activity.Current);
        }

        var (status, activity) = await provider.LoopSaw.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Null(status);
        Assert.Null(activity);
    }

    private sealed class LoopStartingProvider : IServiceInstanceProvider
    {
        public TaskCompletionSource<(GrayStatus?, Activity?)> LoopSaw { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public event EventHandler<ServiceInstancesChangedEventArgs>? InstancesChanged { add { } remove { } }

        public ValueTask<IReadOnlyList<ServiceInstance>?> GetInstancesAsync(string serviceName, CancellationToken cancellationToken = default)
        {
            // What a naive registry client does: start its poll loop on first use.
            _ = Task.Run(() => LoopSaw.TrySetResult((GrayContext.Current, Activity.Current)), CancellationToken.None);
            return new([new ServiceInstance { ServiceName = serviceName, Host = "127.0.0.1", Port = 7201 }]);
        }
    }
}
