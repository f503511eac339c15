using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using GrayRelease.Discovery;
using GrayRelease.Nacos.Discovery;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Nacos.Http;
using GrayRelease.Nacos.Naming;
using GrayRelease.Testing;
using Microsoft.Extensions.Logging.Testing;
using Xunit.Abstractions;

namespace GrayRelease.Nacos.Tests.Discovery;

/// <summary>Issue 11: what a hostile local network or a racing refresh must not do to the instance cache.</summary>
public sealed class HostileNetworkTests(ITestOutputHelper output) : DiscoveryProviderTestBase
{
    private const string ForgedHost = "203.0.113.66";

    private static byte[] ForgedPush(string type = "dom", long cacheMillis = 100) =>
        Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            type,
            lastRefTime = 9_000_000_000_000_000_000,
            data = JsonSerializer.Serialize(new
            {
                name = "DEFAULT_GROUP@@user-app",
                clusters = string.Empty,
                cacheMillis,
                lastRefTime = 4_102_444_800_000,
                hosts = new[] { new { ip = ForgedHost, port = 80, weight = 1.0, healthy = true, enabled = true, metadata = Version("V2") } },
            }),
        }));

    [Fact]
    public async Task A_forged_push_from_a_server_address_is_only_a_signal_the_list_comes_over_http()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2, CacheMillis = 60_000 });
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"));
        var handler = new RecordingHandler();
        var options = TestSupport.Options(nacos);
        var provider = Provider(options, handler);
        var seen = new List<string>();
        provider.InstancesChanged += (_, e) => { lock (seen) { seen.AddRange(e.Instances.Select(i => i.Host)); } };
        Assert.Single((await provider.GetInstancesAsync("user-app", cts.Token))!);
        var lists = handler.Count("/instance/list");

        // The emulator is on 127.0.0.1, so a local socket there passes any address check: only "signal, then fetch" helps.
        using var attacker = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        await attacker.SendAsync(ForgedPush(), new IPEndPoint(IPAddress.Parse(provider.PushReceiver!.ClientIp), provider.PushReceiver.Port), cts.Token);
        var ack = await attacker.ReceiveAsync(cts.Token);
        Assert.Contains("push-ack", Encoding.UTF8.GetString(ack.Buffer), StringComparison.Ordinal);
        Assert.DoesNotContain(ForgedHost, (await provider.GetInstancesAsync("user-app", cts.Token))!.Select(i => i.Host));

        await Eventually.WaitUntilAsync(() => handler.Count("/instance/list") > lists, "the push makes the provider fetch the list over HTTP");
        nacos.RegisterInstance("user-app", "127.0.0.1", 7202, Version("V2"));
        await Eventually.WaitUntilAsync(async () => (await provider.GetInstancesAsync("user-app"))!.Count == 2, "a real change still arrives");

        Assert.Equal([7201, 7202], (await provider.GetInstancesAsync("user-app", cts.Token))!.Select(i => i.Port));
        Assert.Equal(TimeSpan.FromMinutes(1), provider.GetPollInterval("user-app"));
        lock (seen)
        {
            Assert.DoesNotContain(ForgedHost, seen);
        }

        var snapshot = Directory.GetFiles(options.SnapshotPath!, "*.json", SearchOption.AllDirectories).Single();
        Assert.DoesNotContain(ForgedHost, await File.ReadAllTextAsync(snapshot, cts.Token), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pushes_and_dumps_from_an_address_that_is_no_server_are_dropped_unanswered()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2, CacheMillis = 60_000 });
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"));
        var handler = new RecordingHandler();
        var provider = Provider(TestSupport.Options(nacos), handler);
        await provider.GetInstancesAsync("user-app", cts.Token);
        var target = new IPEndPoint(IPAddress.Parse(provider.PushReceiver!.ClientIp), provider.PushReceiver.Port);
        var lists = handler.Count("/instance/list");
        using var attacker = new UdpClient(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
        using var server = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));

        var dump = "{\"type\":\"dump\",\"lastRefTime\":5,\"data\":\"\"}"u8.ToArray();
        await attacker.SendAsync(dump, target, cts.Token);
        await attacker.SendAsync(ForgedPush(), target, cts.Token);

        // Datagrams are handled in order: once the server's own datagram is answered, the attacker's were handled.
        await server.SendAsync("{\"type\":\"what\",\"lastRefTime\":7,\"data\":\"\"}"u8.ToArray(), target, cts.Token);
        var answer = await server.ReceiveAsync(cts.Token);
        Assert.Contains("unknown-ack", Encoding.UTF8.GetString(answer.Buffer), StringComparison.Ordinal);
        Assert.Equal(0, attacker.Available);
        Assert.Equal(lists, handler.Count("/instance/list"));
        Assert.Contains(Logs.GetSnapshot(), r => r.Id.Name == "PushFromUntrustedSender" && r.Message.Contains("127.0.0.2", StringComparison.Ordinal));
        output.WriteLine($"forged dump of {dump.Length} bytes from 127.0.0.2: 0 bytes answered");
    }

    [Fact]
    public async Task A_sender_listed_in_UdpTrustedSenders_is_answered()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2, CacheMillis = 60_000 });
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"));
        var options = TestSupport.Options(nacos);

        // E.g. a Nacos container (172.17.0.2) reached through a published port pushes from its own address.
        options.UdpTrustedSenders = "192.0.2.250, 127.0.0.2";
        var provider = Provider(options);
        await provider.GetInstancesAsync("user-app", cts.Token);
        using var container = new UdpClient(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));

        await container.SendAsync("{\"type\":\"what\",\"lastRefTime\":3,\"data\":\"\"}"u8.ToArray(), new IPEndPoint(IPAddress.Parse(provider.PushReceiver!.ClientIp), provider.PushReceiver.Port), cts.Token);
        var answer = await container.ReceiveAsync(cts.Token);

        Assert.Contains("unknown-ack", Encoding.UTF8.GetString(answer.Buffer), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_poll_and_push_never_leave_subscribers_on_an_older_list_than_the_provider()
    {
        const int Rounds = 200;
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2, CacheMillis = 60_000 });
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"));
        var provider = Provider(TestSupport.Options(nacos));
        IReadOnlyList<ServiceInstance>? lastSeen = null;
        provider.InstancesChanged += (_, e) =>
        {
            // Like a load balancer building its routing table: a handler takes a little while.
            Thread.SpinWait(Random.Shared.Next(0, 20_000));
            Volatile.Write(ref lastSeen, e.Instances);
        };
        await provider.GetInstancesAsync("user-app", cts.Token);
        var stale = 0;
        var behind = 0;

        var receiver = new IPEndPoint(IPAddress.Parse(provider.PushReceiver!.ClientIp), provider.PushReceiver.Port);
        using var server = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        for (var round = 1; round <= Rounds; round++)
        {
            // Polls race with pushes of three quick changes: each one a different list.
            var refreshes = new List<Task>();
            for (var change = 1; change <= 3; change++)
            {
                refreshes.Add(Task.Run(() => provider.RefreshNowAsync("user-app", cts.Token)));
                nacos.SetInstanceWeight("user-app", "127.0.0.1", 7201, (round * 10) + change);
            }

            await Task.WhenAll(refreshes);

            // Datagrams are handled in order: once this one is answered, the round's pushes were handled too.
            await server.SendAsync("{\"type\":\"what\",\"lastRefTime\":1,\"data\":\"\"}"u8.ToArray(), receiver, cts.Token);
            while (!Encoding.UTF8.GetString((await server.ReceiveAsync(cts.Token)).Buffer).Contains("unknown-ack", StringComparison.Ordinal))
            {
            }

            await provider.IdleAsync("user-app");
            var current = await provider.GetInstancesAsync("user-app", cts.Token);
            if (!ReferenceEquals(Volatile.Read(ref lastSeen), current))
            {
                stale++;
            }

            // An older answer applied after the last push leaves the provider itself behind the registry until the
            // next poll (a minute here).
            if (current![0].Weight != (round * 10) + 3)
            {
                behind++;
            }
        }

        output.WriteLine($"stale rounds {stale} of {Rounds} (subscriber older than the provider); provider behind the registry after {behind} of {Rounds}");
        Assert.Equal(0, stale);
        Assert.Equal(0, behind);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_background_refresh_never_carries_the_first_callers_gray_tag_or_activity(bool push)
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2, CacheMillis = push ? 60_000 : 100, PushEnabled = push });
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"));
        var options = TestSupport.Options(nacos);
        options.UdpPushEnabled = push;
        var provider = Provider(options);
        var seen = new TaskCompletionSource<(GrayStatus? Status, Activity? Activity)>(TaskCreationOptions.RunContinuationsAsynchronously);
        provider.InstancesChanged += (_, e) =>
        {
            if (e.Instances.Count == 2)
            {
                seen.TrySetResult((GrayContext.Current, Activity.Current));
            }
        };

        using (var request = new Activity("incoming request").Start())
        using (GrayContext.Begin(GrayStatus.Gray))
        {
            Assert.Single((await provider.GetInstancesAsync("user-app", cts.Token))!);
        }

        nacos.RegisterInstance("user-app", "127.0.0.1", 7202, Version("V2"));
        var (status, activity) = await TestSupport.WithTimeout(seen.Task, "the change to be seen by the " + (push ? "push" : "poll") + " loop");

        Assert.Null(status);
        Assert.Null(activity);
    }

    [Theory]
    [InlineData("UserApp", "userapp")]
    [InlineData("userapp", "UserApp")]
    public async Task Service_names_that_differ_only_in_case_are_two_services(string first, string second)
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync();
        nacos.RegisterInstance("UserApp", "127.0.0.1", 7201, Version("V1"));
        nacos.RegisterInstance("userapp", "127.0.0.1", 7202, Version("V1"));
        var provider = Provider(TestSupport.Options(nacos));

        var firstAnswer = await provider.GetInstancesAsync(first, cts.Token);
        var secondAnswer = await provider.GetInstancesAsync(second, cts.Token);

        Assert.Equal(first == "UserApp" ? 7201 : 7202, Assert.Single(firstAnswer!).Port);
        Assert.Equal(second == "UserApp" ? 7201 : 7202, Assert.Single(secondAnswer!).Port);
        Assert.Equal(first, firstAnswer![0].ServiceName);
    }

    [Fact]
    public async Task UdpHost_and_UdpPort_choose_the_push_address_sent_to_nacos()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2, CacheMillis = 60_000 });
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"));
        int port;
        using (var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
        {
            port = ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
        }

        var handler = new RecordingHandler();
        var options = TestSupport.Options(nacos);
        options.UdpHost = "127.0.0.1";
        options.UdpPort = port;
        var provider = Provider(options, handler);
        await provider.GetInstancesAsync("user-app", cts.Token);

        Assert.Equal(("127.0.0.1", port), (provider.PushReceiver!.ClientIp, provider.PushReceiver.Port));
        var list = handler.Requests.First(r => r.Uri.AbsolutePath.EndsWith("/instance/list", StringComparison.Ordinal)).Uri.Query;
        Assert.Contains($"udpPort={port}", list, StringComparison.Ordinal);
        Assert.Contains("clientIP=127.0.0.1", list, StringComparison.Ordinal);
        var latency = Stopwatch.StartNew();
        nacos.RegisterInstance("user-app", "127.0.0.1", 7202, Version("V2"));
        await Eventually.WaitUntilAsync(async () => (await provider.GetInstancesAsync("user-app"))!.Count == 2, "the push on the configured port is received");
        output.WriteLine($"push to the configured {options.UdpHost}:{port} seen in {latency.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task With_a_loopback_server_pushes_are_subscribed_on_an_address_a_containerised_server_can_reach()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2, CacheMillis = 60_000 });
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"));
        var provider = Provider(TestSupport.Options(nacos));
        await provider.GetInstancesAsync("user-app", cts.Token);
        var lan = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses.Select(u => u.Address))
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a) && !a.ToString().StartsWith("169.254.", StringComparison.Ordinal));
        output.WriteLine($"push address: {provider.PushReceiver!.ClientIp} (machine LAN address: {lan?.ToString() ?? "none"})");

        // 127.0.0.1 inside a container is the container itself: a server there can only answer a host address.
        Assert.Equal((lan ?? IPAddress.Loopback).ToString(), provider.PushReceiver.ClientIp);
        nacos.RegisterInstance("user-app", "127.0.0.1", 7202, Version("V2"));
        await Eventually.WaitUntilAsync(async () => (await provider.GetInstancesAsync("user-app"))!.Count == 2, "the push to that address is received");
    }

    [Fact]
    public async Task Names_nacos_lists_no_instance_of_get_no_poll_loop()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2, CacheMillis = 100, PushEnabled = false });
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"));
        var handler = new RecordingHandler();
        var options = TestSupport.Options(nacos);
        options.UdpPushEnabled = false;
        var provider = Provider(options, handler);

        // What a gray-aware HttpClient sends for every external host it calls.
        for (var i = 1; i <= 5; i++)
        {
            Assert.Null(await provider.GetInstancesAsync($"api-{i}.example.com", cts.Token));
        }

        Assert.Single((await provider.GetInstancesAsync("user-app", cts.Token))!);
        await Eventually.WaitUntilAsync(() => handler.Requests.Count(r => r.Uri.Query.Contains("user-app", StringComparison.Ordinal)) >= 5, "the known service is polled");

        var unknownAsks = handler.Requests.Count(r => r.Uri.Query.Contains(".example.com", StringComparison.Ordinal));
        output.WriteLine($"list calls for 5 unknown names while the known one was polled 5 times: {unknownAsks}");
        Assert.Equal(5, unknownAsks);
    }

    [Fact]
    public async Task A_service_seen_before_never_falls_through_when_its_first_answer_is_empty()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2, CacheMillis = 60_000 });
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"));
        var options = TestSupport.Options(nacos);
        var before = Provider(options);
        Assert.Single((await before.GetInstancesAsync("user-app", cts.Token))!);
        await before.DisposeAsync();

        // A restarted registry (or all instances restarting at once) answers an empty list, as for an unknown name.
        nacos.RemoveInstance("user-app", "127.0.0.1", 7201);
        var restarted = Provider(options);
        var instances = await restarted.GetInstancesAsync("user-app", cts.Token);

        Assert.NotNull(instances);
        Assert.Equal([7201], instances.Select(i => i.Port));
    }
}
