using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using GrayRelease.Nacos.Emulator.Tests.Support;
using GrayRelease.Testing;

namespace GrayRelease.Nacos.Emulator.Tests;

public sealed class PushTests : EmulatorTestBase
{
    private const string Svc = "serviceName=DEFAULT_GROUP%40%40order-app&groupName=DEFAULT_GROUP";

    [Fact]
    public async Task Subscribed_client_receives_a_push_on_register_and_on_deregister()
    {
        using var udp = NewUdpClient();
        await SubscribeAsync(udp, "Nacos-Java-Client:v1.0.0");

        await RegisterAsync(Svc + "&ip=127.0.0.1&port=7001&ephemeral=false");
        var afterRegister = await ReceivePushAsync(udp);
        await SendTextAsync(HttpMethod.Delete, "v1/ns/instance?" + Svc + "&ip=127.0.0.1&port=7001&ephemeral=false");
        var afterDeregister = await ReceivePushAsync(udp);

        Assert.Equal("dom", afterRegister.Push.GetProperty("type").GetString());
        Assert.Equal(["127.0.0.1:7001"], HostAddresses(afterRegister.Data));
        Assert.Equal("DEFAULT_GROUP@@order-app", afterRegister.Data.GetProperty("name").GetString());

        // push/v2/executor/PushExecutorUdpImpl.replaceServiceInfoName builds a ServiceInfo without groupName,
        // and JacksonUtils leaves null fields out.
        Assert.False(afterRegister.Data.TryGetProperty("groupName", out _));
        Assert.Empty(HostAddresses(afterDeregister.Data));
        Assert.True(afterDeregister.Push.GetProperty("lastRefTime").GetInt64() > afterRegister.Push.GetProperty("lastRefTime").GetInt64());
    }

    [Fact]
    public async Task Push_carries_only_the_subscribed_clusters_and_echoes_them()
    {
        using var udp = NewUdpClient();
        await SubscribeAsync(udp, "Nacos-CSharp-Client:v0.9.0", clusters: "A");

        Emulator.RegisterInstance("order-app", "127.0.0.1", 7002);
        var push = await ReceivePushAsync(udp);

        Assert.Equal("A", push.Data.GetProperty("clusters").GetString());
        Assert.Empty(HostAddresses(push.Data));
    }

    [Fact]
    public async Task Each_cluster_view_a_client_listed_gets_its_own_push()
    {
        using var udp = NewUdpClient();
        await SubscribeAsync(udp, "Nacos-Java-Client:v1.0.0", clusters: "DEFAULT");
        await SubscribeAsync(udp, "Nacos-Java-Client:v1.0.0", clusters: "");

        Emulator.RegisterInstance("order-app", "127.0.0.1", 7001);
        var first = await ReceivePushAsync(udp);
        var second = await ReceivePushAsync(udp);

        Assert.Equal(
            ["", "DEFAULT"],
            new[] { first.Data.GetProperty("clusters").GetString(), second.Data.GetProperty("clusters").GetString() }.Order());
        Assert.Equal(["127.0.0.1:7001"], HostAddresses(first.Data));
        Assert.Equal(["127.0.0.1:7001"], HostAddresses(second.Data));
    }

    [Fact]
    public async Task A_big_list_is_pushed_gzip_compressed()
    {
        using var udp = NewUdpClient();
        await SubscribeAsync(udp, "Nacos-Go-Client:v2.0.0");
        for (var port = 7001; port <= 7010; port++)
        {
            Emulator.RegisterInstance("order-app", "127.0.0.1", port, new Dictionary<string, string> { ["version"] = "V1" });
        }

        // Skip to the push that carries all ten hosts.
        (JsonElement Push, JsonElement Data, byte[] Raw, IPEndPoint Sender) push;
        do
        {
            push = await ReceivePushAsync(udp);
        }
        while (push.Data.GetProperty("hosts").GetArrayLength() < 10);

        Assert.Equal((byte)0x1f, push.Raw[0]);
        Assert.Equal((byte)0x8b, push.Raw[1]);
    }

    [Fact]
    public async Task A_small_list_is_pushed_as_plain_json()
    {
        using var udp = NewUdpClient();
        await SubscribeAsync(udp, "Nacos-Java-Client:v1.0.0");

        Emulator.RegisterInstance("order-app", "127.0.0.1", 7001);
        var push = await ReceivePushAsync(udp);

        Assert.Equal((byte)'{', push.Raw[0]);
    }

    [Theory]
    [InlineData("curl/8.0")]
    [InlineData("Nacos-C-Client:v1.0.11")]
    [InlineData("Nacos-Php-Client:v1.0.0")]
    [InlineData("")]
    public async Task Unknown_or_too_old_agents_are_not_subscribed(string agent)
    {
        using var ignored = NewUdpClient();
        using var known = NewUdpClient();
        await SubscribeAsync(ignored, agent);
        await SubscribeAsync(known, "Nacos-Java-Client:v1.0.0");

        Emulator.RegisterInstance("order-app", "127.0.0.1", 7001);
        await ReceivePushAsync(known);

        Assert.Equal(1, Emulator.Push.SubscriptionCount);
        Assert.Equal(0, ignored.Available);
    }

    [Fact]
    public async Task Client_version_header_is_used_when_there_is_no_user_agent()
    {
        using var udp = NewUdpClient();
        var port = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
        using var response = await SendAsync(HttpMethod.Get, $"v1/ns/instance/list?{Svc}&udpPort={port}&clientIP=127.0.0.1", configure: r =>
        {
            r.Headers.UserAgent.Clear();
            r.Headers.TryAddWithoutValidation("Client-Version", "Nacos-Java-Client:v2.1.0");
        });

        Emulator.RegisterInstance("order-app", "127.0.0.1", 7001);

        Assert.Equal(["127.0.0.1:7001"], HostAddresses((await ReceivePushAsync(udp)).Data));
    }

    [Fact]
    public async Task A_clientIP_of_another_host_is_replaced_by_the_callers_address()
    {
        using var udp = NewUdpClient();
        var port = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
        using var response = await SendAsync(HttpMethod.Get, $"v1/ns/instance/list?{Svc}&udpPort={port}&clientIP=10.1.2.3", configure: r => r.Headers.TryAddWithoutValidation("User-Agent", "Nacos-Java-Client:v1.0.0"));

        Emulator.RegisterInstance("order-app", "127.0.0.1", 7001);

        Assert.Equal([new IPEndPoint(IPAddress.Loopback, port)], Emulator.Push.SubscriberTargets);
        Assert.Equal(["127.0.0.1:7001"], HostAddresses((await ReceivePushAsync(udp)).Data));
    }

    [Fact]
    public async Task An_unacknowledged_push_is_sent_once_more_after_the_ack_timeout_and_then_given_up()
    {
        using var udp = NewUdpClient();
        await SubscribeAsync(udp, "Nacos-Java-Client:v1.0.0");
        Emulator.RegisterInstance("order-app", "127.0.0.1", 7001);
        var first = await ReceivePushAsync(udp);

        Clock.Advance(TimeSpan.FromSeconds(10));
        var resent = await ReceivePushAsync(udp);
        Clock.Advance(TimeSpan.FromSeconds(10));
        Clock.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(first.Raw, resent.Raw);
        Assert.Equal(2, Emulator.Push.PushesSent);
    }

    [Fact]
    public async Task A_newer_push_replaces_the_older_unacknowledged_one_so_only_it_is_resent()
    {
        using var udp = NewUdpClient();
        await SubscribeAsync(udp, "Nacos-Java-Client:v1.0.0");
        Emulator.RegisterInstance("order-app", "127.0.0.1", 7001);
        await ReceivePushAsync(udp);
        Emulator.RegisterInstance("order-app", "127.0.0.1", 7002);
        await ReceivePushAsync(udp);
        Emulator.RemoveInstance("order-app", "127.0.0.1", 7002);
        var latest = await ReceivePushAsync(udp);

        Clock.Advance(TimeSpan.FromSeconds(10));
        var resent = await ReceivePushAsync(udp);

        Assert.Equal(["127.0.0.1:7001"], HostAddresses(latest.Data));
        Assert.Equal(latest.Raw, resent.Raw);
        Assert.Equal(4, Emulator.Push.PushesSent);
    }

    [Fact]
    public async Task An_ack_from_another_address_with_the_subscribers_port_is_not_taken_for_its_ack()
    {
        // naming/.../remote/udp/UdpConnector.java matches an ack on AckEntry.getAckKey(ip, port, lastRefTime):
        // the sender's address counts as much as its port.
        using var subscriber = new UdpClient(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
        var port = ((IPEndPoint)subscriber.Client.LocalEndPoint!).Port;
        using var other = new UdpClient(new IPEndPoint(IPAddress.Loopback, port));
        using (await SendAsync(HttpMethod.Get, $"v1/ns/instance/list?{Svc}&udpPort={port}&clientIP=127.0.0.2", configure: r => r.Headers.TryAddWithoutValidation("User-Agent", "Nacos-Java-Client:v1.0.0")))
        {
        }

        Emulator.RegisterInstance("order-app", "127.0.0.1", 7001);
        var push = await ReceivePushAsync(subscriber);
        var ack = Encoding.UTF8.GetBytes($$"""{"type":"push-ack","lastRefTime":{{push.Push.GetProperty("lastRefTime").GetInt64()}},"data":""}""");
        await other.SendAsync(ack, push.Sender, Timeout);
        await Eventually.WaitUntilAsync(() => Emulator.Push.AcksReceived + Emulator.Push.UnmatchedPackets == 1, "the foreign ack to be handled", cancellationToken: Timeout);
        Assert.Equal(0, Emulator.Push.AcksReceived);

        await subscriber.SendAsync(ack, push.Sender, Timeout);
        await Eventually.WaitUntilAsync(() => Emulator.Push.AcksReceived == 1, "the subscriber's own ack to be accepted", cancellationToken: Timeout);
    }

    [Fact]
    public async Task An_ack_with_lastRefTime_as_a_string_is_accepted_as_the_server_does()
    {
        // AckPacket.lastRefTime is a long read by Jackson, which coerces "123" to 123.
        using var udp = NewUdpClient();
        await SubscribeAsync(udp, "Nacos-Java-Client:v1.0.0");
        Emulator.RegisterInstance("order-app", "127.0.0.1", 7001);
        var push = await ReceivePushAsync(udp);

        var ack = Encoding.UTF8.GetBytes($$"""{"type":"push-ack","lastRefTime":"{{push.Push.GetProperty("lastRefTime").GetInt64()}}","data":""}""");
        await udp.SendAsync(ack, push.Sender, Timeout);

        await Eventually.WaitUntilAsync(() => Emulator.Push.AcksReceived == 1, "the ack to be accepted", cancellationToken: Timeout);
    }

    [Fact]
    public async Task LastRefTime_of_a_push_is_exact_as_a_javascript_number()
    {
        using var udp = NewUdpClient();
        await SubscribeAsync(udp, "Nacos-Java-Client:v1.0.0");

        Emulator.RegisterInstance("order-app", "127.0.0.1", 7001);
        var lastRefTime = (await ReceivePushAsync(udp)).Push.GetProperty("lastRefTime").GetInt64();

        Assert.InRange(lastRefTime, 1, (1L << 53) - 1);
    }

    [Fact]
    public async Task An_acknowledged_push_is_not_sent_again()
    {
        using var udp = NewUdpClient();
        await SubscribeAsync(udp, "Nacos-Java-Client:v1.0.0");
        Emulator.RegisterInstance("order-app", "127.0.0.1", 7001);
        var first = await ReceivePushAsync(udp);

        var ack = Encoding.UTF8.GetBytes($$"""{"type":"push-ack","lastRefTime":{{first.Push.GetProperty("lastRefTime").GetInt64()}},"data":""}""");
        await udp.SendAsync(ack, first.Sender, Timeout);
        await Eventually.WaitUntilAsync(() => Emulator.Push.AcksReceived == 1, "the ack to be received", cancellationToken: Timeout);
        Clock.Advance(TimeSpan.FromSeconds(11));
        Emulator.SetInstanceWeight("order-app", "127.0.0.1", 7001, 7);
        var next = await ReceivePushAsync(udp);

        Assert.Equal(7.0, next.Data.GetProperty("hosts")[0].GetProperty("weight").GetDouble());
        Assert.Equal(2, Emulator.Push.PushesSent);
    }

    [Fact]
    public async Task A_subscription_expires_when_its_client_stops_polling()
    {
        using var udp = NewUdpClient();
        await SubscribeAsync(udp, "Nacos-Java-Client:v1.0.0");
        Clock.Advance(TimeSpan.FromSeconds(20));
        await SubscribeAsync(udp, "Nacos-Java-Client:v1.0.0");

        Clock.Advance(TimeSpan.FromSeconds(20));
        var afterRenewal = Emulator.Push.SubscriptionCount;
        Clock.Advance(TimeSpan.FromSeconds(11));

        Assert.Equal(1, afterRenewal);
        Assert.Equal(0, Emulator.Push.SubscriptionCount);
    }

    private static UdpClient NewUdpClient() => new(new IPEndPoint(IPAddress.Loopback, 0));

    private async Task SubscribeAsync(UdpClient udp, string agent, string clusters = "")
    {
        var port = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
        using var response = await SendAsync(
            HttpMethod.Get,
            $"v1/ns/instance/list?{Svc}&clusters={clusters}&udpPort={port}&clientIP=127.0.0.1&healthyOnly=false",
            configure: r =>
            {
                r.Headers.UserAgent.Clear();
                if (agent.Length > 0)
                {
                    r.Headers.TryAddWithoutValidation("User-Agent", agent);
                }
            });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<(JsonElement Push, JsonElement Data, byte[] Raw, IPEndPoint Sender)> ReceivePushAsync(UdpClient udp)
    {
        var datagram = await udp.ReceiveAsync(Timeout);
        using var push = JsonDocument.Parse(ResponseShapeTests.Decompress(datagram.Buffer));
        using var data = JsonDocument.Parse(push.RootElement.GetProperty("data").GetString()!);
        return (push.RootElement.Clone(), data.RootElement.Clone(), datagram.Buffer, datagram.RemoteEndPoint);
    }
}
