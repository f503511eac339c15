using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using GrayRelease.Diagnostics;
using GrayRelease.Discovery;
using GrayRelease.LoadBalancing;
using GrayRelease.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace GrayRelease.Tests.LoadBalancing;

/// <summary>
/// A table built from an older view must never replace one built from a newer list. Each test holds one side of the
/// race at a precise point (inside the regrouping, inside the first lookup) while the other side lands.
/// </summary>
public sealed class GrayLoadBalancerRaceTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly TestOptionsMonitor<GrayReleaseOptions> _options = new(new GrayReleaseOptions());

    public void Dispose() => _services.Dispose();

    [Fact]
    public async Task Regrouping_after_a_metadata_key_change_does_not_overwrite_a_newer_list()
    {
        var provider = new GatedProvider();
        using var balancer = Create(provider);
        var gated = new GatedMetadata(new Dictionary<string, string> { ["version"] = "V1", ["release"] = "V1" }, gateKey: "release");
        provider.Answer = [new ServiceInstance { ServiceName = "user-app", Host = "127.0.0.1", Port = 7201, Metadata = gated }];
        Assert.Equal(7201, (await balancer.PickAsync("user-app", null))!.Port);

        _options.Set(new GrayReleaseOptions { MetadataKey = "release" });
        var regrouping = Task.Run(async () => await balancer.PickAsync("user-app", null));
        Assert.True(gated.Entered.Wait(Timeout), "the pick never started regrouping");

        // While the old list is being regrouped, the registry reports the new one.
        var newer = new ServiceInstance { ServiceName = "user-app", Host = "127.0.0.1", Port = 7209, Metadata = new Dictionary<string, string> { ["release"] = "V1" } };
        provider.Raise("user-app", newer);
        gated.Release.Set();
        await regrouping.WaitAsync(Timeout);

        var table = balancer.GetTable("user-app")!;
        Assert.Equal([7209], table.All.Instances.ToArray().Select(i => i.Instance.Port));
        Assert.Equal(7209, (await balancer.PickAsync("user-app", null))!.Port);
    }

    [Fact]
    public async Task An_unknown_answer_does_not_overwrite_the_table_of_a_change_that_landed_during_the_lookup()
    {
        var provider = new GatedProvider { Answer = null, Gate = new TaskCompletionSource() };
        using var balancer = Create(provider);

        var lookup = balancer.PickAsync("late-app", null).AsTask();
        Assert.True(provider.Asked.Wait(Timeout), "the balancer never asked the provider");
        provider.Raise("late-app", new ServiceInstance { ServiceName = "late-app", Host = "127.0.0.1", Port = 7301 });
        provider.Gate.SetResult();
        Assert.Null(await lookup.WaitAsync(Timeout)); // that lookup itself was answered "unknown"

        Assert.Equal(7301, (await balancer.PickAsync("late-app", null))!.Port);
    }

    private GrayLoadBalancer Create(IServiceInstanceProvider provider) =>
        new(provider, _options, TimeProvider.System, new GrayReleaseMetrics(_services.GetRequiredService<IMeterFactory>()), NullLogger<GrayLoadBalancer>.Instance);

    private sealed class GatedProvider : IServiceInstanceProvider
    {
        public IReadOnlyList<ServiceInstance>? Answer { get; set; }

        public TaskCompletionSource? Gate { get; init; }

        public ManualResetEventSlim Asked { get; } = new();

        public event EventHandler<ServiceInstancesChangedEventArgs>? InstancesChanged;

        public async ValueTask<IReadOnlyList<ServiceInstance>?> GetInstancesAsync(string serviceName, CancellationToken cancellationToken = default)
        {
            var answer = Answer;
            Asked.Set();
            if (Gate is { } gate)
            {
                await gate.Task.WaitAsync(Timeout, cancellationToken);
            }

            return answer;
        }

        public void Raise(string serviceName, params ServiceInstance[] instances) =>
            InstancesChanged?.Invoke(this, new ServiceInstancesChangedEventArgs(serviceName, instances));
    }

    /// <summary>Metadata whose first read of <c>gateKey</c> waits for the test: a hook inside the table build.</summary>
    private sealed class GatedMetadata(Dictionary<string, string> inner, string gateKey) : IReadOnlyDictionary<string, string>
    {
        private int _gated;

        public ManualResetEventSlim Entered { get; } = new();

        public ManualResetEventSlim Release { get; } = new();

        public string this[string key] => inner[key];

        public IEnumerable<string> Keys => inner.Keys;

        public IEnumerable<string> Values => inner.Values;

        public int Count => inner.Count;

        public bool ContainsKey(string key) => inner.ContainsKey(key);

        public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value)
        {
            if (key == gateKey && Interlocked.Exchange(ref _gated, 1) == 0)
            {
                Entered.Set();
                Release.Wait(Timeout);
            }

            return inner.TryGetValue(key, out value);
        }

        public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => inner.GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
