using System.Collections.Concurrent;
using GrayRelease.Discovery;
using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Discovery;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Nacos.Naming;
using GrayRelease.Nacos.Registration;
using GrayRelease.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace GrayRelease.Nacos.Tests.Integration;

/// <summary>
/// Issue 16 (soak finding): under <c>nacos:Transport = Auto</c> a server whose gRPC port did not answer ServerCheck at
/// start-up, while its HTTP API did, pinned naming to HTTP for the life of the process. Auto now probes the gRPC port
/// again (backing off) and moves registration and discovery to gRPC once it answers, over real HTTP / gRPC on loopback.
/// </summary>
public sealed class NamingTransportSwitchTests : IAsyncLifetime
{
    private readonly FakeLogCollector _logs = new();
    private readonly List<IAsyncDisposable> _disposables = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _disposables.Count - 1; i >= 0; i--)
        {
            await _disposables[i].DisposeAsync();
        }
    }

    [Fact]
    public async Task Auto_on_3_2_whose_grpc_did_not_answer_at_start_up_moves_registration_and_discovery_to_grpc_once_it_answers()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(NacosServerLine.Nacos32);
        nacos.Faults.RejectGrpcConnections(TimeSpan.FromMinutes(10));
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"));
        var app = await StartAppAsync(nacos);
        var registration = Registration(app);
        var provider = app.Services.GetRequiredService<NacosServiceInstanceProvider>();

        // Over HTTP first: the v3 client API, heartbeats, polling.
        await Eventually.WaitUntilAsync(() => nacos.GetInstances("order-app").Count == 1 && registration.Beating, "order-app is registered over v3 HTTP and beats");
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.NamingTransportChosen && r.Message.Contains("HTTP (v3 client API)", StringComparison.Ordinal));
        Assert.Single((await provider.GetInstancesAsync("user-app", cts.Token))!);
        Assert.True(provider.IsPolled("user-app"));
        Assert.Equal(0, nacos.GrpcConnections.Count);

        nacos.Faults.RejectGrpcConnections(TimeSpan.Zero);

        // The instance moves to a gRPC connection (the emulator's view), the beats and the poll loop end.
        await Eventually.WaitUntilAsync(
            () => PublishedOverGrpc(nacos, "order-app") && !registration.Beating && !provider.IsPolled("user-app")
                && _logs.GetSnapshot().Any(r => r.Id.Id == EventIds.RegistrationMovedToGrpc),
            "registration and discovery move to gRPC",
            TimeSpan.FromSeconds(30));
        var switched = _logs.GetSnapshot().Where(r => r.Id.Id == EventIds.NamingTransportSwitched).ToList();
        Assert.Single(switched);
        Assert.Contains("now answers ServerCheck", switched[0].Message, StringComparison.Ordinal);

        // Removed over HTTP after the gRPC registration: listed once, by the connection, not removed with the HTTP one.
        var listed = Assert.Single(nacos.GetInstances("order-app"));
        Assert.Equal("V2", listed.Metadata["version"]);
        Assert.True(PublishedOverGrpc(nacos, "order-app"));

        // A change now reaches the provider by gRPC push (no poll loop runs any more).
        var changed = new TaskCompletionSource<IReadOnlyList<ServiceInstance>>(TaskCreationOptions.RunContinuationsAsynchronously);
        provider.InstancesChanged += (_, e) =>
        {
            if (e.ServiceName == "user-app" && e.Instances.Count == 2)
            {
                changed.TrySetResult(e.Instances);
            }
        };
        nacos.RegisterInstance("user-app", "127.0.0.1", 7202, Version("V2"));
        Assert.Contains(await TestSupport.WithTimeout(changed.Task, "the new instance to be pushed over gRPC"), i => i.Port == 7202);
        Assert.False(provider.IsPolled("user-app"));

        // Deregistered on stop over gRPC.
        await app.StopAsync(cts.Token);
        Assert.Empty(nacos.GetInstances("order-app"));
    }

    [Fact]
    public async Task Auto_on_a_1_x_server_stays_on_http_and_probes_its_grpc_port_again_with_back_off()
    {
        var nacos = await StartNacosAsync(NacosServerLine.Nacos14);
        var app = await StartAppAsync(nacos);
        var selector = app.Services.GetRequiredService<NacosNamingTransportSelector>();
        await Eventually.WaitUntilAsync(() => nacos.GetInstances("order-app").Count == 1, "order-app is registered over v1 HTTP");
        await Eventually.WaitUntilAsync(() => selector.ReprobeTimes.Count >= 5, "five probes of the gRPC port", TimeSpan.FromSeconds(30));

        // Each wait at least the planned one (100, 200, 400, 800 ms, then capped at 800): lower bounds only, so a
        // loaded machine cannot fail it, and the probes cannot come more often than the schedule.
        var times = selector.ReprobeTimes.ToArray();
        var planned = new[] { 200, 400, 800, 800 };
        for (var i = 0; i < planned.Length; i++)
        {
            var waited = TimeProvider.System.GetElapsedTime(times[i], times[i + 1]);
            Assert.True(waited >= TimeSpan.FromMilliseconds(planned[i] * 0.9), $"probe {i + 2} came {waited.TotalMilliseconds} ms after probe {i + 1}, planned {planned[i]} ms");
        }

        Assert.Equal(NacosTransport.Http, selector.Current!.Kind);
        Assert.DoesNotContain(_logs.GetSnapshot(), r => r.Id.Id is 610 or 611 or 612);
        Assert.True(Registration(app).Beating);
    }

    [Fact]
    public void The_default_re_probe_waits_double_from_1_s_up_to_5_min()
    {
        using var selector = NacosNamingTransportSelector.Fixed(new HttpNamingTransport(null!, null, "DEFAULT_GROUP"));
        var waits = new List<TimeSpan> { selector.FirstReprobeDelay };
        while (waits.Count < 12)
        {
            waits.Add(NacosNamingTransportSelector.NextReprobeDelay(waits[^1], selector.MaxReprobeDelay));
        }

        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300], waits.Select(w => w.TotalSeconds));
    }

    [Fact]
    public async Task While_discovery_moves_to_grpc_a_reader_sees_the_instances_at_every_moment()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(NacosServerLine.Nacos32);
        nacos.Faults.RejectGrpcConnections(TimeSpan.FromMinutes(10));
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"));
        nacos.RegisterInstance("user-app", "127.0.0.1", 7202, Version("V2"));
        var app = await StartAppAsync(nacos);
        var provider = app.Services.GetRequiredService<NacosServiceInstanceProvider>();
        Assert.Equal(2, (await provider.GetInstancesAsync("user-app", cts.Token))!.Count);
        Assert.True(provider.IsPolled("user-app"));

        // What a load balancer sees: every lookup, and every list it is handed by InstancesChanged.
        var seen = new ConcurrentQueue<int>();
        provider.InstancesChanged += (_, e) =>
        {
            if (e.ServiceName == "user-app")
            {
                seen.Enqueue(e.Instances.Count);
            }
        };
        using var stop = new CancellationTokenSource();
        var reads = 0;
        var reader = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                seen.Enqueue((await provider.GetInstancesAsync("user-app", cts.Token))?.Count ?? -1);
                reads++;
                await Task.Yield();
            }
        });

        nacos.Faults.RejectGrpcConnections(TimeSpan.Zero);
        await Eventually.WaitUntilAsync(() => !provider.IsPolled("user-app") && _logs.GetSnapshot().Any(r => r.Id.Id == EventIds.DiscoveryMovedToGrpc), "discovery moves to gRPC", TimeSpan.FromSeconds(30));
        await Eventually.WaitUntilAsync(() => Volatile.Read(ref reads) > 100, "a few more reads after the move");
        await stop.CancelAsync();
        await reader;

        Assert.All(seen, count => Assert.Equal(2, count));
    }

    /// <summary>
    /// Found while fixing the above: a service served from the snapshot while Nacos was down (no transport chosen yet)
    /// starts a poll loop; when another lookup chose gRPC first, that loop ended at its next turn without subscribing,
    /// so the service kept its snapshot list for the life of the process. It now subscribes, then ends.
    /// </summary>
    [Fact]
    public async Task Auto_after_an_outage_subscribes_a_service_served_from_the_snapshot_once_another_lookup_chose_grpc()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(NacosServerLine.Nacos31);
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"), ephemeral: false);
        var snapshots = TestSupport.NewSnapshotPath();
        await using (var first = await StartAppAsync(nacos, snapshots, track: false))
        {
            Assert.Single((await first.Services.GetRequiredService<NacosServiceInstanceProvider>().GetInstancesAsync("user-app", cts.Token))!);
            await first.StopAsync(cts.Token);
        }

        await nacos.StopAsync(cts.Token);
        var app = await StartAppAsync(nacos, snapshots);
        var provider = app.Services.GetRequiredService<NacosServiceInstanceProvider>();
        Assert.Single((await provider.GetInstancesAsync("user-app", cts.Token))!);
        Assert.True(provider.IsPolled("user-app"));

        await nacos.RestartAsync(cts.Token);
        await provider.GetInstancesAsync("other-app", cts.Token);
        Assert.Equal(NacosTransport.Grpc, app.Services.GetRequiredService<NacosNamingTransportSelector>().Current!.Kind);

        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        provider.InstancesChanged += (_, e) =>
        {
            if (e.ServiceName == "user-app" && e.Instances.Any(i => i.Port == 7202))
            {
                changed.TrySetResult();
            }
        };
        nacos.RegisterInstance("user-app", "127.0.0.1", 7202, Version("V2"), ephemeral: false);

        // The poll loop's first turn comes within two poll periods (10 s, plus a random stagger of up to one).
        await Eventually.WaitUntilAsync(() => changed.Task.IsCompleted, "user-app is subscribed over gRPC and its change pushed", TimeSpan.FromSeconds(45));
        await Eventually.WaitUntilAsync(() => !provider.IsPolled("user-app"), "the poll loop ends once subscribed", TimeSpan.FromSeconds(30));
    }

    private static bool PublishedOverGrpc(NacosEmulator nacos, string service) =>
        nacos.GrpcConnections.All.Any(c =>
        {
            lock (c.Gate)
            {
                return c.Published.Any(p => p.Key.GroupedName == "DEFAULT_GROUP@@" + service && p.Value.Count == 1);
            }
        });

    private static NacosRegistrationService Registration(WebApplication app) =>
        app.Services.GetServices<IHostedService>().OfType<NacosRegistrationService>().Single();

    private static Dictionary<string, string> Version(string version) => new() { ["version"] = version };

    private async Task<NacosEmulator> StartNacosAsync(NacosServerLine line)
    {
        var nacos = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = line, GrpcPushDelay = TimeSpan.FromMilliseconds(20) });
        _disposables.Add(nacos);
        return nacos;
    }

    private async Task<WebApplication> StartAppAsync(NacosEmulator nacos, string? snapshotPath = null, bool track = true)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "order-app" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders().AddProvider(new FakeLoggerProvider(_logs)).SetMinimumLevel(LogLevel.Debug);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["nacos:ServerAddresses:0"] = nacos.ServerAddress,
            ["nacos:SnapshotPath"] = snapshotPath ?? TestSupport.NewSnapshotPath(),
            ["nacos:DefaultTimeOut"] = "5000",
            ["nacos:DrainDelay"] = "00:00:00",
            ["nacos:V3PollInterval"] = "00:00:00.300",
            ["GrayRelease:Version"] = "V2",
        });
        builder.AddGrayRelease().AddNacos();
        var app = builder.Build();
        app.MapGet("/ping", () => "pong");
        if (track)
        {
            _disposables.Add(app);
        }

        // Shorter than the real back-off (1 s doubling up to 5 min), so that the tests see several probes.
        var selector = app.Services.GetRequiredService<NacosNamingTransportSelector>();
        selector.FirstReprobeDelay = TimeSpan.FromMilliseconds(100);
        selector.MaxReprobeDelay = TimeSpan.FromMilliseconds(800);
        await app.StartAsync();
        return app;
    }
}
