using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using GrayRelease.Nacos.Diagnostics;
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
        using var server = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var push = Fixtures.Read("udp-push.json");

        var datagram = gzip ? Gzip(push) : Encoding.UTF8.GetBytes(push);
        await server.SendAsync(datagram, new IPEndPoint(IPAddress.Parse(receiver.ClientIp), receiver.Port), cts.Token);
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
        var target = new IPEndPoint(IPAddress.Parse(receiver!.ClientIp), receiver.Port);

        await server.SendAsync(new byte[] { 0x1f, 0x8b, 1, 2, 3 }, target, cts.Token);
        await server.SendAsync(Encoding.UTF8.GetBytes("{\"type\":\"what\",\"lastRefTime\":7,\"data\":\"\"}"), target, cts.Token);
        var ack = await server.ReceiveAsync(cts.Token);

        Assert.Contains("unknown-ack", Encoding.UTF8.GetString(ack.Buffer), StringComparison.Ordinal);
        Assert.Contains(logs.GetSnapshot(), r => r.Id.Id == EventIds.MalformedPush);
    }

    [Fact]
    public async Task No_malformed_datagram_ends_the_receive_loop_and_dispose_never_throws()
    {
        using var cts = TestSupport.Timeout();
        var logs = new FakeLogCollector();
        var handled = 0;
        var receiver = UdpPushReceiver.TryStart(new Uri("http://127.0.0.1:8848/nacos/"), p =>
        {
            // A failing handler is one more kind of bad input.
            if (Interlocked.Increment(ref handled) == 1)
            {
                throw new InvalidOperationException("handler failed");
            }

            return null;
        }, new FakeLogger(logs));
        using var server = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var target = new IPEndPoint(IPAddress.Parse(receiver!.ClientIp), receiver.Port);
        byte[][] malformed =
        [
            [.. "{\"type\":\"dom\",\"lastRefTime\":1,\"data\":\""u8, 0xff, 0xfe, .. "\"}"u8],
            [.. "{\"type\":\""u8, 0xc3, 0x28, .. "\",\"lastRefTime\":1}"u8],
            [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff],
            Gzip("not json"),
            "{\"type\":\"dom\""u8.ToArray(),
            "[1,2,3]"u8.ToArray(),
            "{\"type\":7,\"lastRefTime\":{\"a\":1},\"data\":[]}"u8.ToArray(),
            "{\"type\":\"dom\",\"lastRefTime\":1,\"data\":\"{\\\"hosts\\\":7}\"}"u8.ToArray(),
            "{\"type\":\"dom\",\"lastRefTime\":1,\"data\":\"{}\"}"u8.ToArray(),
            [],
        ];

        foreach (var datagram in malformed)
        {
            await server.SendAsync(datagram, target, cts.Token);
        }

        await server.SendAsync("{\"type\":\"what\",\"lastRefTime\":7,\"data\":\"\"}"u8.ToArray(), target, cts.Token);
        string last;
        do
        {
            last = Encoding.UTF8.GetString((await server.ReceiveAsync(cts.Token)).Buffer);
        }
        while (!last.Contains("\"lastRefTime\":7", StringComparison.Ordinal));

        Assert.Contains("unknown-ack", last, StringComparison.Ordinal);
        Assert.Contains(logs.GetSnapshot(), r => r.Id.Id == EventIds.MalformedPush);
        await receiver.DisposeAsync();
    }
}
