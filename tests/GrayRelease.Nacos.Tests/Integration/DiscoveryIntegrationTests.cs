using System.Diagnostics;
using GrayRelease.Discovery;
using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Discovery;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Nacos.Http;
using GrayRelease.Nacos.Naming;
using GrayRelease.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;
using GrayRelease.Nacos.Tests.Discovery;
using Xunit.Abstractions;

namespace GrayRelease.Nacos.Tests.Integration;

public sealed class DiscoveryIntegrationTests(ITestOutputHelper output) : DiscoveryProviderTestBase
{
    [Fact]
    public async Task First_lookup_fetches_the_instances_and_later_lookups_answer_from_the_cache()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync();
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"), weight: 2.5);
        nacos.RegisterInstance("user-app", "127.0.0.1", 7202, Version("V2"));
        var provider = Provider(TestSupport.Options(nacos));

        var first = await provider.GetInstancesAsync("user-app", cts.Token);
        await nacos.StopAsync(cts.Token);
        var second = await provider.GetInstancesAsync("user-app", cts.Token);

        Assert.NotNull(first);
        Assert.Equal(["http://127.0.0.1:7201", "http://127.0.0.1:7202"], first.Select(i => i.Address));
        Assert.Equal(["V1", "V2"], first.Select(i => i.GetMetadata("version")));
        Assert.Equal(2.5, first[0].Weight);
        Assert.Same(first, second);
    }

    [Fact]
    public async Task Unknown_services_ip_literals_and_localhost_are_null()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync();
        var handler = new RecordingHandler();
        var provider = Provider(TestSupport.Options(nacos), handler);

        Assert.Null(await provider.GetInstancesAsync("no-such-app", cts.Token));
        var asked = handler.Requests.Count;
        Assert.Null(await provider.GetInstancesAsync("127.0.0.1", cts.Token));
        Assert.Null(await provider.GetInstancesAsync("localhost", cts.Token));
        Assert.Null(await provider.GetInstancesAsync("[::1]", cts.Token));
        Assert.Equal(asked, handler.Requests.Count);
    }

    [Fact]
    public async Task Push_makes_a_registry_change_visible_before_any_poll()
    {
        using var cts = TestSupport.Timeout();

        // Polling every minute cannot explain a change seen within half a minute: only the UDP push (a signal that
        // makes the client fetch the list) can. The latency itself is printed, not asserted: a loaded CI machine
        // once took 1.2 s.
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2, CacheMillis = 60_000 });
        using var changes = new MetricCollector<long>(null, "GrayRelease.Nacos", "grayrelease.nacos.instances.changes");
        nacos.RegisterInstance("push-app", "127.0.0.1", 7201, Version("V1"));
        var provider = Provider(TestSupport.Options(nacos));
        Assert.Single((await provider.GetInstancesAsync("push-app", cts.Token))!);
        Assert.NotNull(provider.PushReceiver);

        var latency = await MeasureChangeAsync(provider, () => nacos.RegisterInstance("push-app", "127.0.0.1", 7202, Version("V2")), instances => instances.Count == 2);

        output.WriteLine($"push on: registry change -> InstancesChanged in {latency.TotalMilliseconds:F1} ms");
        Assert.True(latency < TimeSpan.FromSeconds(30), $"push took {latency}");
        Assert.Contains(changes.GetMeasurementSnapshot(), m => m.Tags["service"] as string == "push-app" && m.Tags["source"] as string == "push");
    }

    [Fact]
    public async Task A_dump_request_is_answered_with_the_whole_cache()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync();
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"));
        var provider = Provider(TestSupport.Options(nacos));
        await provider.GetInstancesAsync("user-app", cts.Token);
        using var server = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));

        await server.SendAsync("{\"type\":\"dump\",\"lastRefTime\":5,\"data\":\"\"}"u8.ToArray(), new System.Net.IPEndPoint(System.Net.IPAddress.Parse(provider.PushReceiver!.ClientIp), provider.PushReceiver.Port), cts.Token);
        var answer = await server.ReceiveAsync(cts.Token);

        using var json = System.Text.Json.JsonDocument.Parse(answer.Buffer);
        Assert.Equal("dump-ack", json.RootElement.GetProperty("type").GetString());
        using var dump = System.Text.Json.JsonDocument.Parse(json.RootElement.GetProperty("data").GetString()!);
        var service = dump.RootElement.GetProperty("DEFAULT_GROUP@@user-app");
        Assert.Equal(7201, service.GetProperty("hosts")[0].GetProperty("port").GetInt32());
    }

    [Fact]
    public async Task Poll_only_mode_also_converges()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2, CacheMillis = 300 });
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"));
        var options = TestSupport.Options(nacos);
        options.UdpPushEnabled = false;
        var provider = Provider(options);
        Assert.Single((await provider.GetInstancesAsync("user-app", cts.Token))!);
        Assert.Null(provider.PushReceiver);

        var latency = await MeasureChangeAsync(provider, () => nacos.SetInstanceWeight("user-app", "127.0.0.1", 7201, 5), instances => instances[0].Weight == 5);

        output.WriteLine($"push off (cacheMillis 300): registry change -> InstancesChanged in {latency.TotalMilliseconds:F1} ms");
        Assert.True(latency < TimeSpan.FromSeconds(5), $"poll took {latency}");
    }

    [Fact]
    public async Task Instances_changed_is_raised_only_when_the_list_really_changed()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2, CacheMillis = 100, PushEnabled = false });
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"));
        var handler = new RecordingHandler();
        var options = TestSupport.Options(nacos);
        options.UdpPushEnabled = false;
        var provider = Provider(options, handler);
        var changes = 0;
        provider.InstancesChanged += (_, e) => Interlocked.Increment(ref changes);
        await provider.GetInstancesAsync("user-app", cts.Token);
        var afterFirst = Volatile.Read(ref changes);

        await Eventually.WaitUntilAsync(() => handler.Count("/instance/list") >= 4, "three polls happened");
        Assert.Equal(afterFirst, Volatile.Read(ref changes));

        nacos.SetInstanceWeight("user-app", "127.0.0.1", 7201, 4);
        await Eventually.WaitUntilAsync(() => Volatile.Read(ref changes) > afterFirst, "the change is seen");
        var polls = handler.Count("/instance/list");
        await Eventually.WaitUntilAsync(() => handler.Count("/instance/list") >= polls + 3, "three more polls happened");
        Assert.Equal(afterFirst + 1, Volatile.Read(ref changes));
    }

    [Fact]
    public async Task An_empty_answer_does_not_wipe_the_cache_unless_protection_is_off()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2, CacheMillis = 100 });
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"));
        nacos.RegisterInstance("user-app", "127.0.0.1", 7202, Version("V1"), groupName: "OTHER");
        var protectedProvider = Provider(TestSupport.Options(nacos));
        var unprotectedOptions = TestSupport.Options(nacos);
        unprotectedOptions.PushEmptyProtection = false;
        var unprotected = Provider(unprotectedOptions);
        Assert.Single((await protectedProvider.GetInstancesAsync("user-app", cts.Token))!);
        Assert.Single((await unprotected.GetInstancesAsync("user-app", cts.Token))!);

        nacos.RemoveInstance("user-app", "127.0.0.1", 7201);

        await Eventually.WaitUntilAsync(async () => (await unprotected.GetInstancesAsync("user-app"))!.Count == 0, "the unprotected cache empties");
        await Eventually.WaitUntilAsync(() => Logs.GetSnapshot().Any(r => r.Id.Id == EventIds.EmptyListIgnored), "the protected provider ignores the empty answer");
        Assert.Single((await protectedProvider.GetInstancesAsync("user-app", cts.Token))!);
    }

    [Fact]
    public async Task With_nacos_down_at_start_up_the_disk_snapshot_serves()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync();
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"));
        var options = TestSupport.Options(nacos);
        var first = Provider(options);
        Assert.Single((await first.GetInstancesAsync("user-app", cts.Token))!);
        await nacos.StopAsync(cts.Token);

        var restarted = Provider(options);
        var instances = await restarted.GetInstancesAsync("user-app", cts.Token);

        var instance = Assert.Single(instances!);
        Assert.Equal(("127.0.0.1", 7201, "V1"), (instance.Host, instance.Port, instance.GetMetadata("version")));
        Assert.Contains(Logs.GetSnapshot(), r => r.Id.Id == EventIds.ServedFromSnapshot);
    }

    [Fact]
    public async Task Malformed_and_failing_answers_keep_the_previous_list_and_say_why()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2, CacheMillis = 100, PushEnabled = false });
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"));
        var options = TestSupport.Options(nacos);
        options.UdpPushEnabled = false;
        var provider = Provider(options);
        var before = await provider.GetInstancesAsync("user-app", cts.Token);

        nacos.Faults.MalformedBodies = true;
        await Eventually.WaitUntilAsync(() => Logs.GetSnapshot().Any(r => r.Id.Id == EventIds.MalformedInstanceList), "the malformed answer is logged");
        nacos.Faults.Reset();
        nacos.Faults.ServerErrors = true;
        await Eventually.WaitUntilAsync(() => Logs.GetSnapshot().Any(r => r.Id.Id == EventIds.RefreshFailed), "the failing answer is logged");

        Assert.Same(before, await provider.GetInstancesAsync("user-app", cts.Token));
        var malformed = Logs.GetSnapshot().First(r => r.Id.Id == EventIds.MalformedInstanceList);
        Assert.Equal(LogLevel.Warning, malformed.Level);
        Assert.Contains("user-app", malformed.Message, StringComparison.Ordinal);
        Assert.Contains("keeping the previous list of 1", malformed.Message, StringComparison.Ordinal);

        nacos.Faults.Reset();
        nacos.SetInstanceWeight("user-app", "127.0.0.1", 7201, 3);
        await Eventually.WaitUntilAsync(async () => (await provider.GetInstancesAsync("user-app"))![0].Weight == 3, "it recovers once Nacos answers well again");
    }

    [Fact]
    public async Task After_an_outage_partial_lists_are_merged_until_the_recovery_grace_ends()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2, CacheMillis = 200, PushEnabled = false });
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"), ephemeral: true);
        nacos.RegisterInstance("user-app", "127.0.0.1", 7202, Version("V2"), ephemeral: true);
        var options = TestSupport.Options(nacos);
        options.UdpPushEnabled = false;
        options.RecoveryGrace = TimeSpan.FromSeconds(2);
        var provider = Provider(options);
        Assert.Equal(2, (await provider.GetInstancesAsync("user-app", cts.Token))!.Count);

        await nacos.StopAsync(cts.Token);
        await Eventually.WaitUntilAsync(() => Logs.GetSnapshot().Any(r => r.Id.Name == "RefreshFailed"), "a poll notices the outage");
        await nacos.RestartAsync(cts.Token);
        nacos.RegisterInstance("user-app", "127.0.0.1", 7202, Version("V2"), ephemeral: true); // only V2 is back so far

        await Eventually.WaitUntilAsync(() => Logs.GetSnapshot().Any(r => r.Id.Name == "KeptDuringRecovery"), "the partial answer is merged");
        Assert.Equal([7201, 7202], (await provider.GetInstancesAsync("user-app", cts.Token))!.Select(i => i.Port));

        // V1 never comes back: once the grace is over, the registry's list is taken as it is.
        await Eventually.WaitUntilAsync(
            () => provider.GetInstancesAsync("user-app", cts.Token).AsTask().GetAwaiter().GetResult()!.Count == 1,
            "the list follows the registry again after the grace");
        Assert.Equal([7202], (await provider.GetInstancesAsync("user-app", cts.Token))!.Select(i => i.Port));
    }

    private static async Task<TimeSpan> MeasureChangeAsync(IServiceInstanceProvider provider, Action change, Func<IReadOnlyList<ServiceInstance>, bool> isChanged)
    {
        var seen = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        provider.InstancesChanged += (_, e) =>
        {
            if (isChanged(e.Instances))
            {
                seen.TrySetResult(Stopwatch.GetTimestamp());
            }
        };
        var start = Stopwatch.GetTimestamp();
        change();
        var end = await TestSupport.WithTimeout(seen.Task, "InstancesChanged");
        return Stopwatch.GetElapsedTime(start, end);
    }
}
