using GrayRelease.Discovery;
using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Discovery;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace GrayRelease.Nacos.Tests.Integration;

public sealed class SelfRegistrationTests : IAsyncLifetime
{
    private readonly FakeLogCollector _logs = new();
    private NacosEmulator _nacos = null!;

    public async Task InitializeAsync() => _nacos = await NacosEmulator.StartAsync(new NacosEmulatorOptions
    {
        ServerLine = NacosServerLine.Nacos2,
        HeartbeatTimeout = TimeSpan.FromSeconds(2),
        DeleteTimeout = TimeSpan.FromSeconds(4),
        HealthCheckInterval = TimeSpan.FromMilliseconds(100),
        ClientBeatIntervalMillis = 200,
    });

    public async Task DisposeAsync() => await _nacos.DisposeAsync();

    private WebApplication BuildApp(Dictionary<string, string?>? extra = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "order-app" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders().AddProvider(new FakeLoggerProvider(_logs));
        var settings = new Dictionary<string, string?>
        {
            ["nacos:ServerAddresses:0"] = _nacos.ServerAddress,
            ["nacos:SnapshotPath"] = TestSupport.NewSnapshotPath(),
            ["nacos:DrainDelay"] = "00:00:03",
            ["nacos:Metadata:zone"] = "a",
            ["GrayRelease:Version"] = "V2",
        };
        foreach (var pair in extra ?? [])
        {
            settings[pair.Key] = pair.Value;
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddGrayRelease().AddNacos();
        var app = builder.Build();
        app.MapGet("/ping", () => "pong");
        return app;
    }

    private static int BoundPort(WebApplication app) =>
        new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()).Port;

    [Fact]
    public async Task Registers_with_the_real_bound_port_and_version_metadata_after_start()
    {
        using var cts = TestSupport.Timeout();
        await using var app = BuildApp();

        await app.StartAsync(cts.Token);
        var port = BoundPort(app);
        await Eventually.WaitUntilAsync(() => _nacos.GetInstances("order-app").Count == 1, "the app is registered");

        var instance = _nacos.GetInstances("order-app").Single();
        Assert.NotEqual(0, port);
        Assert.Equal(("127.0.0.1", port), (instance.Ip, instance.Port));
        Assert.Equal("V2", instance.Metadata["version"]);
        Assert.Equal("a", instance.Metadata["zone"]);
        Assert.True(instance.Ephemeral);
        Assert.IsType<NacosServiceInstanceProvider>(app.Services.GetRequiredService<IServiceInstanceProvider>());
        await app.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Registers_its_lane_as_metadata_beside_the_version_when_GrayRelease_Lane_is_set()
    {
        using var cts = TestSupport.Timeout();
        await using var app = BuildApp(new() { ["GrayRelease:Lane"] = "feature-a", ["GrayRelease:LaneMetadataKey"] = "sandbox" });

        await app.StartAsync(cts.Token);
        await Eventually.WaitUntilAsync(() => _nacos.GetInstances("order-app").Count == 1, "the app is registered");

        var metadata = _nacos.GetInstances("order-app").Single().Metadata;
        Assert.Equal(("V2", "feature-a"), (metadata["version"], metadata["sandbox"]));
        Assert.False(metadata.ContainsKey("lane"));
        await app.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Deregisters_on_stop_while_the_server_still_serves_during_the_drain_delay()
    {
        using var cts = TestSupport.Timeout();
        await using var app = BuildApp();
        await app.StartAsync(cts.Token);
        var address = $"http://127.0.0.1:{BoundPort(app)}/ping";
        await Eventually.WaitUntilAsync(() => _nacos.GetInstances("order-app").Count == 1, "the app is registered");
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };

        var stopping = app.StopAsync(cts.Token);
        await Eventually.WaitUntilAsync(() => _nacos.GetInstances("order-app").Count == 0, "the app is deregistered");
        var duringDrain = await client.GetStringAsync(address, cts.Token);
        Assert.False(stopping.IsCompleted, "the host waits for the drain delay");
        await stopping.WaitAsync(cts.Token);

        Assert.Equal("pong", duringDrain);
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetStringAsync(address, cts.Token));
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.Deregistered);
    }

    [Fact]
    public async Task Heartbeats_keep_the_instance_healthy_and_it_comes_back_after_the_server_forgets_it()
    {
        using var cts = TestSupport.Timeout();
        await using var app = BuildApp(new()
        {
            ["nacos:DrainDelay"] = "00:00:00",
            ["nacos:Transport"] = "Http", // heartbeats are the HTTP path's (gRPC: GrpcNamingTests)

            // The instance's own interval (the server echoes it): sub-second beats are the application's choice.
            ["nacos:Metadata:preserved.heart.beat.interval"] = "200",
        });
        await app.StartAsync(cts.Token);
        await Eventually.WaitUntilAsync(() => _nacos.GetInstances("order-app").Count == 1, "the app is registered");
        var firstBeat = _nacos.GetInstances("order-app").Single().LastBeat;

        // Beats every 200 ms (the interval the server answers) keep it alive well past the 2 s heartbeat timeout.
        await Eventually.WaitUntilAsync(
            () => _nacos.GetInstances("order-app") is [{ } i] && i.LastBeat > firstBeat + TimeSpan.FromSeconds(2.5),
            "beats continue past the heartbeat timeout");
        Assert.True(_nacos.GetInstances("order-app").Single().Healthy);

        await _nacos.RestartAsync(cts.Token);
        Assert.Empty(_nacos.GetInstances("order-app"));
        await Eventually.WaitUntilAsync(() => _nacos.GetInstances("order-app").Count == 1, "the app is registered again");

        Assert.Equal("V2", _nacos.GetInstances("order-app").Single().Metadata["version"]);
        await app.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_disabled_instance_comes_back_disabled_after_the_server_forgets_it()
    {
        using var cts = TestSupport.Timeout();
        // Heartbeats are the HTTP path's; over gRPC: GrpcNamingTests.A_server_restart_re_registers_...
        await using var app = BuildApp(new() { ["nacos:DrainDelay"] = "00:00:00", ["nacos:InstanceEnabled"] = "false", ["nacos:Transport"] = "Http" });
        await app.StartAsync(cts.Token);
        await Eventually.WaitUntilAsync(() => _nacos.GetInstances("order-app").Count == 1, "the app is registered");
        Assert.False(_nacos.GetInstances("order-app").Single().Enabled);
        var beatsBefore = _nacos.GetInstances("order-app").Single().LastBeat;
        await Eventually.WaitUntilAsync(
            () => _nacos.GetInstances("order-app") is [{ } i] && i.LastBeat > beatsBefore,
            "a heartbeat was answered (light beats allowed from now on)");

        // A restarted server has forgotten every ephemeral instance; a full beat would re-create it enabled.
        await _nacos.RestartAsync(cts.Token);
        await Eventually.WaitUntilAsync(() => _nacos.GetInstances("order-app").Count == 1, "the app is back");

        var back = _nacos.GetInstances("order-app").Single();
        Assert.False(back.Enabled, "the instance came back enabled");
        Assert.Equal("V2", back.Metadata["version"]);
        await app.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_heartbeat_answered_500_registers_the_instance_again()
    {
        using var cts = TestSupport.Timeout();
        await using var app = BuildApp(new() { ["nacos:DrainDelay"] = "00:00:00", ["nacos:Transport"] = "Http" });
        await app.StartAsync(cts.Token);
        await Eventually.WaitUntilAsync(() => _nacos.GetInstances("order-app").Count == 1, "the app is registered");
        var port = BoundPort(app);

        // As a real server answers a beat for a service it lost ("service not found", 500): a fixed per-request error.
        _nacos.Faults.PathPrefix = "/nacos/v1/ns/instance/beat";
        _nacos.Faults.ServerErrors = true;
        _nacos.RemoveInstance("order-app", "127.0.0.1", port);

        await Eventually.WaitUntilAsync(() => _nacos.GetInstances("order-app").Count == 1, "the app registers again");
        await app.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task With_nacos_down_the_app_starts_and_registers_once_nacos_is_up()
    {
        using var cts = TestSupport.Timeout();
        await _nacos.StopAsync(cts.Token);
        await using var app = BuildApp(new() { ["nacos:DrainDelay"] = "00:00:00" });

        await app.StartAsync(cts.Token);
        await Eventually.WaitUntilAsync(() => _logs.GetSnapshot().Any(r => r.Id.Id == EventIds.RegisterFailed), "the failed registration is logged");
        await _nacos.RestartAsync(cts.Token);

        await Eventually.WaitUntilAsync(() => _nacos.GetInstances("order-app").Count == 1, "the app registers after Nacos came up");

        // nacos:Transport Auto: a server down at start-up does not pin HTTP; the choice waits for it (gRPC on 2.x).
        var chosen = Assert.Single(_logs.GetSnapshot(), r => r.Id.Id == EventIds.NamingTransportChosen);
        Assert.Contains("uses gRPC", chosen.Message, StringComparison.Ordinal);
        await app.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Invalid_options_stop_start_up_naming_the_key()
    {
        await using var app = BuildApp(new() { ["nacos:ServerAddresses:0"] = "not a url" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(CancellationToken.None));

        Assert.Contains("nacos:ServerAddresses:0", error.Message, StringComparison.Ordinal);
        Assert.Contains("'not a url'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nacos:ClusterName", "blue_green")]
    [InlineData("nacos:GroupName", "GRAY GROUP")]
    [InlineData("nacos:Weight", "20000")]
    [InlineData("nacos:Metadata:preserved.heart.beat.interval", "20000")]
    public async Task Values_the_server_refuses_stop_start_up_instead_of_retrying_for_ever(string key, string value)
    {
        await using var app = BuildApp(new() { [key] = value });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(CancellationToken.None));

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
        Assert.Contains("'" + value + "'", error.Message, StringComparison.Ordinal);
        Assert.Empty(_nacos.GetInstances("order-app"));
    }

    [Fact]
    public async Task A_persistent_registration_into_an_ephemeral_service_is_logged_as_an_error_with_the_servers_reason()
    {
        using var cts = TestSupport.Timeout();
        _nacos.RegisterInstance("order-app", "10.0.0.77", 7000, ephemeral: true);
        await using var app = BuildApp(new() { ["nacos:DrainDelay"] = "00:00:00", ["nacos:Ephemeral"] = "false" });

        await app.StartAsync(cts.Token);
        await Eventually.WaitUntilAsync(() => _logs.GetSnapshot().Any(r => r.Id.Id == EventIds.RegistrationRefused), "the refusal is logged");

        var refused = _logs.GetSnapshot().First(r => r.Id.Id == EventIds.RegistrationRefused);
        Assert.Equal(LogLevel.Error, refused.Level);
        Assert.Contains("is ephemeral service, can't register persistent instance", refused.Exception!.Message, StringComparison.Ordinal);
        Assert.Single(_nacos.GetInstances("order-app"));
        await app.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task NamingUseRpc_selects_grpc_for_naming_and_no_rpc_setting_is_ignored_any_more()
    {
        using var cts = TestSupport.Timeout();
        await using var app = BuildApp(new() { ["nacos:NamingUseRpc"] = "true", ["nacos:ConfigUseRpc"] = "true", ["nacos:Transport"] = "Auto" });

        await app.StartAsync(cts.Token);
        await Eventually.WaitUntilAsync(() => _nacos.GetInstances("order-app").Count == 1, "order-app is registered");
        await app.StopAsync(cts.Token);

        var chosen = Assert.Single(_logs.GetSnapshot(), r => r.Id.Id == EventIds.NamingTransportChosen);
        Assert.Contains("gRPC", chosen.Message, StringComparison.Ordinal);
        Assert.Contains("nacos:NamingUseRpc", chosen.Message, StringComparison.Ordinal);
        // Both settings are honoured now (ConfigUseRpc by the configuration source): the old "not supported" warning is gone.
        Assert.DoesNotContain(_logs.GetSnapshot(), r => r.Message.Contains("the setting is ignored", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Listeners_in_configuration_add_the_nacos_configuration_source()
    {
        using var cts = TestSupport.Timeout();
        _nacos.PublishConfig("order-app.yaml", "DEFAULT_GROUP", "GrayRelease:\n  ProdVersion: V1\n  GrayVersion: V2\n");
        await using var app = BuildApp(new()
        {
            ["nacos:Listeners:0:DataId"] = "order-app.yaml",
            ["nacos:RegisterEnabled"] = "false",
        });
        await app.StartAsync(cts.Token);
        var monitor = app.Services.GetRequiredService<IOptionsMonitor<GrayReleaseOptions>>();
        Assert.Equal("V2", monitor.CurrentValue.GrayVersion);
        var changed = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = monitor.OnChange(o => changed.TrySetResult(o.GrayVersion));

        _nacos.PublishConfig("order-app.yaml", "DEFAULT_GROUP", "GrayRelease:\n  ProdVersion: V1\n  GrayVersion: V3\n");

        Assert.Equal("V3", await TestSupport.WithTimeout(changed.Task, "the live change"));
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.ConfigChanged);
        await app.StopAsync(cts.Token);
    }
}
