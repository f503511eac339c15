using System.Globalization;
using GrayRelease.LoadBalancing;
using GrayRelease.Nacos.Discovery;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Nacos.Http;
using GrayRelease.Nacos.Naming;
using GrayRelease.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using GrayRelease.Nacos.Diagnostics;

namespace GrayRelease.Nacos.Tests.Discovery;

/// <summary>
/// A service the load balancer stops picking (<c>GrayRelease:IdleServiceTimeout</c>) is no longer kept fresh: its poll
/// loop ends or its subscription is cancelled, and its <c>nacos:MaxServices</c> slot is free again (issue 16).
/// </summary>
/// <remarks>
/// Real clock, real emulator: the timeout is the shortest allowed (1 s, a sweep every 250 ms), and each wait is for the
/// event itself (the loop's task ends, the emulator drops the subscription) with a generous deadline.
/// </remarks>
public sealed class IdleEvictionTests : DiscoveryProviderTestBase
{
    [Fact]
    public async Task Over_http_an_idle_service_loses_its_poll_loop_and_slot_and_the_next_pick_looks_it_up_again()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2, CacheMillis = 200, PushEnabled = false });
        nacos.RegisterInstance("svc-a", "127.0.0.1", 7201, Version("V1"));
        nacos.RegisterInstance("svc-b", "127.0.0.1", 7202, Version("V1"));
        var app = await StartAppAsync(nacos, "Http");
        var balancer = (GrayLoadBalancer)app.Services.GetRequiredService<IGrayLoadBalancer>();
        var provider = app.Services.GetRequiredService<NacosServiceInstanceProvider>();

        Assert.Equal(7201, (await balancer.PickAsync("svc-a", null, cts.Token))!.Port);
        var loop = provider.GetPollLoop("svc-a");
        Assert.NotNull(loop);
        Assert.Equal(1, provider.KnownServiceCount);

        // Without eviction the loop polls for the life of the process.
        await TestSupport.WithTimeout(loop.ContinueWith(_ => true, TaskScheduler.Default), "the poll loop of the idle service to end");
        await Eventually.WaitUntilAsync(() => balancer.GetTable("svc-a") is null && provider.KnownServiceCount == 0, "the table and the MaxServices slot of svc-a to be released");

        // nacos:MaxServices is 1: only a slot given back lets another service in.
        Assert.Equal(7202, (await balancer.PickAsync("svc-b", null, cts.Token))!.Port);
        var loopB = provider.GetPollLoop("svc-b");
        Assert.NotNull(loopB);
        await TestSupport.WithTimeout(loopB.ContinueWith(_ => true, TaskScheduler.Default), "the poll loop of svc-b to end");
        await Eventually.WaitUntilAsync(() => provider.KnownServiceCount == 0, "the slot of svc-b to be released");

        // The first pick after an eviction is a cold lookup, and works.
        Assert.Equal(7201, (await balancer.PickAsync("svc-a", null, cts.Token))!.Port);
        Assert.NotSame(loop, provider.GetPollLoop("svc-a"));
        Assert.Contains(Logs.GetSnapshot(), r => r.Id.Id == EventIds.ServiceEvicted && r.Message.Contains("svc-a", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Over_grpc_an_idle_service_is_unsubscribed_and_its_slot_reused()
    {
        using var cts = TestSupport.Timeout();
        var nacos = Track(await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos32, GrpcPushDelay = TimeSpan.FromMilliseconds(20) }, CancellationToken.None));
        nacos.RegisterInstance("svc-a", "127.0.0.1", 7201, Version("V1"));
        nacos.RegisterInstance("svc-b", "127.0.0.1", 7202, Version("V1"));
        var app = await StartAppAsync(nacos, "Grpc");
        var balancer = (GrayLoadBalancer)app.Services.GetRequiredService<IGrayLoadBalancer>();
        var provider = app.Services.GetRequiredService<NacosServiceInstanceProvider>();
        var transport = (GrpcNamingTransport)await app.Services.GetRequiredService<NacosNamingTransportSelector>().GetAsync(cts.Token);

        Assert.Equal(7201, (await balancer.PickAsync("svc-a", null, cts.Token))!.Port);
        Assert.True(IsSubscribed(nacos, "svc-a"));

        await Eventually.WaitUntilAsync(() => !IsSubscribed(nacos, "svc-a"), "the emulator to see svc-a unsubscribed");
        Assert.DoesNotContain("svc-a", transport.Subscriptions);
        await Eventually.WaitUntilAsync(() => balancer.GetTable("svc-a") is null && provider.KnownServiceCount == 0, "the table and the MaxServices slot of svc-a to be released");

        Assert.Equal(7202, (await balancer.PickAsync("svc-b", null, cts.Token))!.Port);
        Assert.True(IsSubscribed(nacos, "svc-b"));
        await Eventually.WaitUntilAsync(() => !IsSubscribed(nacos, "svc-b") && provider.KnownServiceCount == 0, "svc-b to be unsubscribed and its slot released");

        // Back again: looked up, subscribed, and kept fresh by pushes as before.
        Assert.Equal(7201, (await balancer.PickAsync("svc-a", null, cts.Token))!.Port);
        Assert.True(IsSubscribed(nacos, "svc-a"));
        nacos.RegisterInstance("svc-a", "127.0.0.1", 7203, Version("V1"));
        await Eventually.WaitUntilAsync(
            async () =>
            {
                // Picked meanwhile, so that a slow push does not meet an evicted service.
                await balancer.PickAsync("svc-a", null, cts.Token);
                return balancer.GetTable("svc-a")?.All.Count == 2;
            },
            "the push of a new instance of svc-a to reach the load balancer");
    }

    [Fact]
    public async Task A_pinned_service_is_never_evicted_while_an_unpinned_one_idle_as_long_is()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2, CacheMillis = 200, PushEnabled = false });
        nacos.RegisterInstance("gateway-svc", "127.0.0.1", 7201, Version("V1"));
        nacos.RegisterInstance("svc-b", "127.0.0.1", 7202, Version("V1"));
        var app = await StartAppAsync(nacos, "Http", maxServices: 2);
        var balancer = (GrayLoadBalancer)app.Services.GetRequiredService<IGrayLoadBalancer>();
        var provider = app.Services.GetRequiredService<NacosServiceInstanceProvider>();

        // As the gateway's destination resolver does: pinned before the first lookup.
        var pin = provider.Pin("gateway-svc");
        Assert.NotNull(await balancer.PickAsync("gateway-svc", null, cts.Token));
        Assert.NotNull(await balancer.PickAsync("svc-b", null, cts.Token));
        var pinnedLoop = provider.GetPollLoop("gateway-svc")!;
        await TestSupport.WithTimeout(provider.GetPollLoop("svc-b")!.ContinueWith(_ => true, TaskScheduler.Default), "the poll loop of svc-b to end");

        // The round that evicted svc-b judged gateway-svc too (both idle since the same pick): let it finish, and one more.
        await balancer.LastSweep;
        await balancer.SweepIdleAsync(cts.Token);
        Assert.False(pinnedLoop.IsCompleted);
        Assert.NotNull(balancer.GetTable("gateway-svc"));
        Assert.Equal(1, provider.KnownServiceCount);

        // The pin was the reason: released, the service goes like any other.
        pin.Dispose();
        await TestSupport.WithTimeout(pinnedLoop.ContinueWith(_ => true, TaskScheduler.Default), "the poll loop of gateway-svc to end once unpinned");
    }

    [Fact]
    public async Task A_lookup_during_an_eviction_waits_for_it_so_the_late_unsubscribe_cannot_cancel_the_new_subscription()
    {
        using var cts = TestSupport.Timeout();
        var transport = new SlowUnsubscribeTransport();
        var options = new NacosOptions { ServerAddresses = ["http://127.0.0.1:9"], SnapshotPath = TestSupport.NewSnapshotPath(), UdpPushEnabled = false };
        var logger = new FakeLogger<NacosServiceInstanceProvider>(Logs);
        using var http = new NacosHttpClient(options, TimeProvider.System, logger, null);
        var provider = new NacosServiceInstanceProvider(NacosNamingTransportSelector.Fixed(transport), http, options, TimeProvider.System, logger);
        await using var disposeProvider = provider;
        Assert.NotNull(await provider.GetInstancesAsync("svc-a", cts.Token));

        var eviction = provider.TryEvictAsync("svc-a", cts.Token).AsTask();
        await TestSupport.WithTimeout(transport.UnsubscribeStarted.Task.ContinueWith(_ => true, TaskScheduler.Default), "the eviction to send its unsubscribe");
        var lookup = provider.GetInstancesAsync("svc-a", cts.Token).AsTask();

        // Without the tombstone the lookup subscribes again at once, and the old unsubscribe, answered after it, cancels
        // the new subscription: give it that chance (2 s, bounded), then let the unsubscribe through.
        await Eventually.TryWaitUntilAsync(() => transport.Subscribes >= 2, TimeSpan.FromSeconds(2), cts.Token);

        Assert.Equal(1, transport.Subscribes);
        Assert.False(lookup.IsCompleted);
        transport.ReleaseUnsubscribe();
        Assert.True(await eviction);
        Assert.NotNull(await lookup);
        Assert.Equal(2, transport.Subscribes);
        Assert.True(transport.IsSubscribed("svc-a"));
        Assert.Equal(1, provider.KnownServiceCount);
    }

    private static bool IsSubscribed(NacosEmulator nacos, string serviceName)
    {
        foreach (var connection in nacos.GrpcConnections.All)
        {
            lock (connection.Gate)
            {
                foreach (var key in connection.Subscriptions.Keys)
                {
                    if (key.ServiceName == serviceName)
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    private async Task<WebApplication> StartAppAsync(NacosEmulator nacos, string transport, int maxServices = 1)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "order-app" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders().AddProvider(new FakeLoggerProvider(Logs)).SetMinimumLevel(LogLevel.Debug);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["nacos:ServerAddresses:0"] = nacos.ServerAddress,
            ["nacos:SnapshotPath"] = TestSupport.NewSnapshotPath(),
            ["nacos:DefaultTimeOut"] = "10000",
            ["nacos:DrainDelay"] = "00:00:00",
            ["nacos:RegisterEnabled"] = "false",
            ["nacos:UdpPushEnabled"] = "false",
            ["nacos:Transport"] = transport,
            ["nacos:MaxServices"] = maxServices.ToString(CultureInfo.InvariantCulture),
            ["GrayRelease:IdleServiceTimeout"] = "00:00:01",
        });
        builder.AddGrayRelease().AddNacos();
        var app = builder.Build();
        Track(app);
        await app.StartAsync();
        return app;
    }
    /// <summary>A gRPC-like transport whose server applies an unsubscribe only when the test lets it arrive.</summary>
    private sealed class SlowUnsubscribeTransport : INacosNamingTransport
    {
        private readonly HashSet<string> _server = new(StringComparer.Ordinal);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _subscribes;

        public TaskCompletionSource UnsubscribeStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Subscribes => Volatile.Read(ref _subscribes);

        public NacosTransport Kind => NacosTransport.Grpc;

        public bool UsesHeartbeats => false;

        public bool PushesLists => true;

        public long OutageCount => 0;

        public bool IsSubscribed(string serviceName)
        {
            lock (_server)
            {
                return _server.Contains(serviceName);
            }
        }

        public void ReleaseUnsubscribe() => _release.TrySetResult();

        public Task RegisterAsync(NacosRegistration registration, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task DeregisterAsync(NacosRegistration registration, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<(NacosServiceInfo? Info, string Body)> SubscribeAsync(string serviceName, int udpPort, string? clientIp, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _subscribes);
            lock (_server)
            {
                _server.Add(serviceName);
            }

            var host = new NacosHost(null, "127.0.0.1", 7201, 1, true, true, true, "DEFAULT", serviceName, new Dictionary<string, string>());
            return Task.FromResult<(NacosServiceInfo?, string)>((new NacosServiceInfo(serviceName, "DEFAULT_GROUP", string.Empty, 10_000, 1, [host]), "{}"));
        }

        public async Task UnsubscribeAsync(string serviceName, CancellationToken cancellationToken)
        {
            UnsubscribeStarted.TrySetResult();
            await _release.Task.WaitAsync(cancellationToken);
            lock (_server)
            {
                _server.Remove(serviceName);
            }
        }

        public void SetListHandler(Action<NacosServiceInfo, string>? handler)
        {
        }
    }
}
