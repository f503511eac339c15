using GrayRelease.Nacos.Emulator.Tests.Support;

namespace GrayRelease.Nacos.Emulator.Tests;

public sealed class HealthCheckTests : EmulatorTestBase
{
    private const string Svc = "serviceName=DEFAULT_GROUP%40%40order-app";

    [Fact]
    public async Task Ephemeral_instance_turns_unhealthy_after_the_heartbeat_timeout_and_is_removed_after_the_delete_timeout()
    {
        await RegisterAsync(Svc + "&ip=127.0.0.1&port=7001");

        Clock.Advance(TimeSpan.FromSeconds(15));
        Assert.True(Emulator.GetInstances("order-app").Single().Healthy);
        Clock.Advance(TimeSpan.FromSeconds(1.5));
        var unhealthy = (await ListAsync(Svc)).GetProperty("hosts")[0];
        Clock.Advance(TimeSpan.FromSeconds(14));

        Assert.False(unhealthy.GetProperty("healthy").GetBoolean());
        Assert.Empty(Emulator.GetInstances("order-app"));
        Assert.Empty(HostAddresses(await ListAsync(Svc)));
    }

    [Fact]
    public async Task Beats_keep_an_instance_healthy_and_bring_an_unhealthy_one_back()
    {
        await RegisterAsync(Svc + "&ip=127.0.0.1&port=7001");
        for (var i = 0; i < 6; i++)
        {
            Clock.Advance(TimeSpan.FromSeconds(5));
            await SendTextAsync(HttpMethod.Put, "v1/ns/instance/beat?" + Svc + "&ip=127.0.0.1&port=7001");
        }

        Assert.True(Emulator.GetInstances("order-app").Single().Healthy);
        Clock.Advance(TimeSpan.FromSeconds(20));
        Assert.False(Emulator.GetInstances("order-app").Single().Healthy);

        await SendTextAsync(HttpMethod.Put, "v1/ns/instance/beat?" + Svc + "&ip=127.0.0.1&port=7001");

        var instance = Emulator.GetInstances("order-app").Single();
        Assert.True(instance.Healthy);
        Assert.Equal(Clock.GetUtcNow(), instance.LastBeat);
    }

    [Fact]
    public async Task Metadata_overrides_the_heartbeat_and_delete_timeouts()
    {
        // The interval too: a real server refuses a heartbeat timeout below the (default 5 s) interval.
        var metadata = Uri.EscapeDataString("""{"preserved.heart.beat.interval":"1000","preserved.heart.beat.timeout":"3000","preserved.ip.delete.timeout":"6000"}""");
        await RegisterAsync(Svc + "&ip=127.0.0.1&port=7001&metadata=" + metadata);
        await RegisterAsync(Svc + "&ip=127.0.0.1&port=7002");

        var host = (await ListAsync(Svc)).GetProperty("hosts")[0];
        Clock.Advance(TimeSpan.FromSeconds(4));
        Assert.False(Emulator.GetInstances("order-app")[0].Healthy);
        Clock.Advance(TimeSpan.FromSeconds(3));

        Assert.Equal(3000, host.GetProperty("instanceHeartBeatTimeOut").GetInt32());
        Assert.Equal(6000, host.GetProperty("ipDeleteTimeout").GetInt32());
        Assert.Equal(["127.0.0.1:7002"], Emulator.GetInstances("order-app").Select(i => i.Ip + ":" + i.Port));
    }

    [Fact]
    public async Task Persistent_instances_do_not_expire()
    {
        await RegisterAsync(Svc + "&ip=127.0.0.1&port=7001&ephemeral=false");

        Clock.Advance(TimeSpan.FromMinutes(5));

        var instance = Emulator.GetInstances("order-app").Single();
        Assert.True(instance.Healthy);
        Assert.False(instance.Ephemeral);
    }
}

public sealed class HealthCheckOptionsTests : EmulatorTestBase
{
    protected override void Configure(NacosEmulatorOptions options)
    {
        options.HeartbeatTimeout = TimeSpan.FromSeconds(2);
        options.DeleteTimeout = TimeSpan.FromSeconds(4);
        options.HealthCheckInterval = TimeSpan.FromMilliseconds(500);
    }

    [Fact]
    public async Task The_options_set_the_timeouts_that_list_answers_report()
    {
        await RegisterAsync("serviceName=order-app&ip=127.0.0.1&port=7001");

        var host = (await ListAsync("serviceName=order-app")).GetProperty("hosts")[0];
        Clock.Advance(TimeSpan.FromSeconds(2.5));
        var healthyAfterTimeout = Emulator.GetInstances("order-app").Single().Healthy;
        Clock.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(2000, host.GetProperty("instanceHeartBeatTimeOut").GetInt32());
        Assert.Equal(4000, host.GetProperty("ipDeleteTimeout").GetInt32());
        Assert.False(healthyAfterTimeout);
        Assert.Empty(Emulator.GetInstances("order-app"));
    }
}
