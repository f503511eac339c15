using System.Net;
using System.Net.Sockets;
using GrayRelease.Nacos.Emulator.Tests.Support;
using GrayRelease.Testing;

namespace GrayRelease.Nacos.Emulator.Tests;

public sealed class LifecycleTests : EmulatorTestBase
{
    [Fact]
    public void Addresses_name_the_bound_loopback_port()
    {
        Assert.NotEqual(0, Emulator.Port);
        Assert.Equal($"http://127.0.0.1:{Emulator.Port}", Emulator.ServerAddress);
        Assert.Equal(new Uri($"http://127.0.0.1:{Emulator.Port}/nacos/"), Emulator.BaseAddress);
    }

    [Fact]
    public async Task Stopped_emulator_refuses_connections_but_keeps_its_state()
    {
        Emulator.PublishConfig("a.yaml", "DEFAULT_GROUP", "x");

        await Emulator.StopAsync(Timeout);

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => Http.GetAsync("v1/ns/instance/list?serviceName=a", Timeout));
        Assert.Equal(HttpRequestError.ConnectionError, error.HttpRequestError);
        Assert.False(Emulator.IsRunning);
        Assert.Equal("x", Emulator.GetConfig("a.yaml", "DEFAULT_GROUP"));
    }

    [Fact]
    public async Task Restart_comes_back_on_the_same_port_without_ephemeral_instances_but_with_configs()
    {
        var port = Emulator.Port;
        // One service each: a real server refuses a persistent instance in an ephemeral service (and the reverse).
        await RegisterAsync("serviceName=order-app&ip=127.0.0.1&port=7001");
        await RegisterAsync("serviceName=stock-app&ip=127.0.0.1&port=7002&ephemeral=false");
        Emulator.PublishConfig("a.yaml", "DEFAULT_GROUP", "kept");

        await Emulator.StopAsync(Timeout);
        await Emulator.RestartAsync(Timeout);
        var ephemeral = await ListAsync("serviceName=order-app");
        var persistent = await ListAsync("serviceName=stock-app");
        var config = await SendTextAsync(HttpMethod.Get, "v1/cs/configs?dataId=a.yaml&group=DEFAULT_GROUP");

        Assert.Equal(port, Emulator.Port);
        Assert.Empty(HostAddresses(ephemeral));
        Assert.Equal(["127.0.0.1:7002"], HostAddresses(persistent));
        Assert.Equal("kept", config);
    }

    [Fact]
    public async Task After_a_restart_a_full_beat_re_creates_the_instance()
    {
        await RegisterAsync("serviceName=order-app&ip=127.0.0.1&port=7001");
        await Emulator.RestartAsync(Timeout);
        var beat = Uri.EscapeDataString("""{"serviceName":"DEFAULT_GROUP@@order-app","ip":"127.0.0.1","port":7001,"weight":1.0,"metadata":{}}""");

        await SendTextAsync(HttpMethod.Put, "v1/ns/instance/beat?serviceName=DEFAULT_GROUP%40%40order-app&beat=" + beat);

        Assert.Single(Emulator.GetInstances("order-app"));
    }

    [Fact]
    public async Task Stop_cuts_a_held_listener_call()
    {
        var listening = SendAsync(
            HttpMethod.Post,
            "v1/cs/configs/listener",
            Form(("Listening-Configs", "a.yaml\u0002DEFAULT_GROUP\u0002\u0001")),
            r => r.Headers.TryAddWithoutValidation("Long-Pulling-Timeout", "25000"));
        await Eventually.WaitUntilAsync(() => Emulator.HeldConfigListeners == 1, "the listener call to be held", cancellationToken: Timeout);

        await Emulator.StopAsync(Timeout).WaitAsync(TimeSpan.FromSeconds(10), Timeout);

        await Assert.ThrowsAsync<HttpRequestException>(() => listening);
    }

    [Fact]
    public async Task A_restarted_emulator_pushes_again_after_a_new_subscription()
    {
        await Emulator.RestartAsync(Timeout);
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var udpPort = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
        using var response = await SendAsync(HttpMethod.Get, $"v1/ns/instance/list?serviceName=order-app&udpPort={udpPort}", configure: r => r.Headers.TryAddWithoutValidation("User-Agent", "Nacos-Java-Client:v1.0.0"));

        Emulator.RegisterInstance("order-app", "127.0.0.1", 7001);

        var datagram = await udp.ReceiveAsync(Timeout);
        Assert.Contains("127.0.0.1", ResponseShapeTests.Decompress(datagram.Buffer), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dispose_twice_is_harmless()
    {
        await Emulator.DisposeAsync();
        await Emulator.DisposeAsync();

        Assert.False(Emulator.IsRunning);
    }
}

public sealed class EmulatorOptionsTests
{
    [Theory]
    [InlineData(-1)]
    [InlineData(70000)]
    public async Task Invalid_ports_are_refused_at_start(int port)
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => NacosEmulator.StartAsync(new NacosEmulatorOptions { Port = port }));
    }

    [Fact]
    public async Task A_zero_heartbeat_timeout_is_refused_at_start()
    {
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => NacosEmulator.StartAsync(new NacosEmulatorOptions { HeartbeatTimeout = TimeSpan.Zero }));

        Assert.Contains("HeartbeatTimeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_emulators_get_different_ports()
    {
        await using var first = await NacosEmulator.StartAsync();
        await using var second = await NacosEmulator.StartAsync();

        Assert.NotEqual(first.Port, second.Port);
    }
}
