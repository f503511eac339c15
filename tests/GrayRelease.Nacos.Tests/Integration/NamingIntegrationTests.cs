using Microsoft.Extensions.Time.Testing;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Nacos.Naming;
using GrayRelease.Testing;

namespace GrayRelease.Nacos.Tests.Integration;

public class NamingIntegrationTests
{
    private static NacosRegistration Registration(int port, bool ephemeral = true) => new(
        "order-app", "DEFAULT_GROUP", "DEFAULT", "127.0.0.1", port, 2.5, Enabled: true, ephemeral,
        new Dictionary<string, string> { ["version"] = "V2", ["zone"] = "a" });

    [Fact]
    public async Task Register_list_and_deregister_round_trip_over_real_http()
    {
        using var cts = TestSupport.Timeout();
        await using var nacos = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2 }, cts.Token);
        var (http, naming) = TestSupport.Clients(TestSupport.Options(nacos));
        using var _ = http;

        await naming.RegisterAsync(Registration(7201), cts.Token);

        var stored = Assert.Single(nacos.GetInstances("order-app"));
        Assert.Equal(("127.0.0.1", 7201, 2.5, true), (stored.Ip, stored.Port, stored.Weight, stored.Enabled));
        Assert.Equal("V2", stored.Metadata["version"]);
        var (info, _) = await naming.ListAsync("order-app", "DEFAULT_GROUP", 0, null, cts.Token);
        var host = Assert.Single(info!.Hosts);
        Assert.Equal(("127.0.0.1", 7201, "V2", "a"), (host.Ip, host.Port, host.Metadata["version"], host.Metadata["zone"]));

        await naming.DeregisterAsync(Registration(7201), cts.Token);

        Assert.Empty(nacos.GetInstances("order-app"));
    }

    [Fact]
    public async Task Heartbeat_is_known_to_the_server_and_carries_the_beat_interval()
    {
        using var cts = TestSupport.Timeout();
        await using var nacos = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2, ClientBeatIntervalMillis = 1234 }, cts.Token);
        var (http, naming) = TestSupport.Clients(TestSupport.Options(nacos));
        using var _ = http;
        await naming.RegisterAsync(Registration(7202), cts.Token);
        var before = Assert.Single(nacos.GetInstances("order-app")).LastBeat;

        var beat = await naming.BeatAsync(Registration(7202), 5000, light: false, cts.Token);

        Assert.Equal(10200, beat.Code);
        Assert.Equal(1234, beat.ClientBeatInterval);
        Assert.True(Assert.Single(nacos.GetInstances("order-app")).LastBeat >= before);
    }

    [Fact]
    public async Task An_ephemeral_instance_without_heartbeats_expires()
    {
        using var cts = TestSupport.Timeout();
        // The registry's clock is a fake one, so a loaded machine cannot expire the instance before it is looked at.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var nacos = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2, TimeProvider = clock }, cts.Token);
        var (http, naming) = TestSupport.Clients(TestSupport.Options(nacos));
        using var _ = http;

        await naming.RegisterAsync(Registration(7203), cts.Token);
        Assert.True(Assert.Single(nacos.GetInstances("order-app")).Healthy);

        clock.Advance(TimeSpan.FromSeconds(16));
        await Eventually.WaitUntilAsync(() => nacos.GetInstances("order-app") is [{ Healthy: false }], "the instance without beats turns unhealthy");

        clock.Advance(TimeSpan.FromSeconds(15));
        await Eventually.WaitUntilAsync(() => nacos.GetInstances("order-app").Count == 0, "the instance without beats is deleted");
    }

    [Fact]
    public async Task A_beat_after_a_server_restart_brings_the_instance_back()
    {
        using var cts = TestSupport.Timeout();
        await using var nacos = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2 }, cts.Token);
        var (http, naming) = TestSupport.Clients(TestSupport.Options(nacos));
        using var _ = http;
        await naming.RegisterAsync(Registration(7204), cts.Token);

        await nacos.RestartAsync(cts.Token);
        Assert.Empty(nacos.GetInstances("order-app"));
        var beat = await naming.BeatAsync(Registration(7204), 5000, light: false, cts.Token);
        if (beat.InstanceUnknown)
        {
            await naming.RegisterAsync(Registration(7204), cts.Token);
        }

        var back = Assert.Single(nacos.GetInstances("order-app"));
        Assert.Equal("V2", back.Metadata["version"]);
    }
}
