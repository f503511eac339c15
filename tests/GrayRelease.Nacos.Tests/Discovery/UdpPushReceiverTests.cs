using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using GrayRelease.Nacos.Discovery;
using Microsoft.Extensions.Logging.Testing;

namespace GrayRelease.Nacos.Tests.Discovery;

public class UdpPushReceiverTests
{
    private static byte[] Gzip(string text)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }

        return buffer.ToArray();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_pushed_datagram_is_handed_over_and_acknowledged_to_its_sender(bool gzip)
    {
        using var cts = TestSupport.Timeout();
        var received = new TaskCompletionSource<NacosPushPacket>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var receiver = UdpPushReceiver.TryStart(new Uri("http://127.0.0.1:8848/nacos/"), p =>
        {
            received.TrySetResult(p);
            return null;
        }, new FakeLogger());
        Assert.NotNull(receiver);
        Assert.Equal("127.0.0.1", receiver.ClientIp);
        using var server = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var push = Fixtures.Read("udp-push.json");

        var datagram = gzip ? Gzip(push) : Encoding.UTF8.GetBytes(push);
        await server.SendAsync(datagram, new IPEndPoint(IPAddress.Loopback, receiver.Port), cts.Token);
        var ack = await server.ReceiveAsync(cts.Token);

        var packet = await TestSupport.WithTimeout(received.Task, "the push to be handed over");
        Assert.Equal("user-app", GrayRelease.Nacos.Http.NacosJson.ParseServiceInfo(packet.Data!)!.BareName);
        using var json = JsonDocument.Parse(ack.Buffer);
        Assert.Equal("push-ack", json.RootElement.GetProperty("type").GetString());
        Assert.Equal("1732492800999000000", json.RootElement.GetProperty("lastRefTime").GetRawText());
    }

    [Fact]
    public async Task Garbage_is_logged_and_the_receiver_keeps_listening()
    {
        using var cts = TestSupport.Timeout();
        var logs = new FakeLogCollector();
        await using var receiver = UdpPushReceiver.TryStart(new Uri("http://127.0.0.1:8848/nacos/"), _ => null, new FakeLogger(logs));
        using var server = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var target = new IPEndPoint(IPAddress.Loopback, receiver!.Port);

        await server.SendAsync(new byte[] { 0x1f, 0x8b, 1, 2, 3 }, target, cts.Token);
        await server.SendAsync(Encoding.UTF8.GetBytes("{\"type\":\"what\",\"lastRefTime\":7,\"data\":\"\"}"), target, cts.Token);
        var ack = await server.ReceiveAsync(cts.Token);

        Assert.Contains("unknown-ack", Encoding.UTF8.GetString(ack.Buffer), StringComparison.Ordinal);
        Assert.Contains(logs.GetSnapshot(), r => r.Id.Id == 49);
    }
}
