using System.Diagnostics;
using GrayRelease.Discovery;
using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Discovery;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Nacos.Grpc;
using GrayRelease.Nacos.Grpc.Protocol;
using GrayRelease.Nacos.Http;
using GrayRelease.Nacos.Tests.Grpc;
using GrayRelease.Nacos.Naming;
using GrayRelease.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Xunit.Abstractions;

namespace GrayRelease.Nacos.Tests.Integration;

/// <summary>Registration and discovery over each transport against each emulated server line, over real gRPC / HTTP on loopback.</summary>
public sealed class GrpcNamingTests(ITestOutputHelper output) : IAsyncLifetime
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

    [Theory]
    [InlineData(NacosServerLine.Nacos14, "Http", "HTTP")]
    [InlineData(NacosServerLine.Nacos14, null, "HTTP")]
    [InlineData(NacosServerLine.Nacos2, "Http", "HTTP")]
    [InlineData(NacosServerLine.Nacos2, "Grpc", "gRPC")]
    [InlineData(NacosServerLine.Nacos2, null, "gRPC")]
    [InlineData(NacosServerLine.Nacos31, "Http", "HTTP")]
    [InlineData(NacosServerLine.Nacos31, "Grpc", "gRPC")]
    [InlineData(NacosServerLine.Nacos31, null, "gRPC")]
    [InlineData(NacosServerLine.Nacos32, "Http", "HTTP")]
    [InlineData(NacosServerLine.Nacos32, "Grpc", "gRPC")]
    [InlineData(NacosServerLine.Nacos32, null, "gRPC")]
    public async Task Registers_discovers_gets_changes_pushed_and_deregisters_on_stop(NacosServerLine line, string? transport, string expected)
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(line);
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"));
        var settings = new Dictionary<string, string?> { ["nacos:DrainDelay"] = "00:00:05", ["nacos:V3PollInterval"] = "00:00:00.300" };
        if (transport is not null)
        {
            settings["nacos:Transport"] = transport;
        }

        var app = await StartAppAsync(nacos, settings);
        await Eventually.WaitUntilAsync(() => nacos.GetInstances("order-app").Count == 1, "order-app is registered");
        var registered = nacos.GetInstances("order-app").Single();
        Assert.Equal("V2", registered.Metadata["version"]);
        Assert.True(registered.Ephemeral);
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.NamingTransportChosen && r.Message.Contains("uses " + expected, StringComparison.Ordinal));

        var provider = app.Services.GetRequiredService<NacosServiceInstanceProvider>();
        var changed = new TaskCompletionSource<IReadOnlyList<ServiceInstance>>(TaskCreationOptions.RunContinuationsAsynchronously);
        provider.InstancesChanged += (_, e) =>
        {
            if (e.ServiceName == "user-app" && e.Instances.Count == 2)
            {
                changed.TrySetResult(e.Instances);
            }
        };
        Assert.Single((await provider.GetInstancesAsync("user-app", cts.Token))!);

        nacos.RegisterInstance("user-app", "127.0.0.1", 7202, Version("V2"));
        var pushed = await TestSupport.WithTimeout(changed.Task, "the new instance to reach the provider");
        Assert.Contains(pushed, i => i.Port == 7202);
        Assert.Equal(expected == "gRPC", !provider.IsPolled("user-app"));
        if (expected == "gRPC")
        {
            // One connection for registration and discovery.
            Assert.Equal(1, nacos.GrpcConnections.Count);
        }

        // Deregistered while the web server still drains (before Kestrel stops), on both transports.
        var stopping = app.StopAsync(CancellationToken.None);
        await Eventually.WaitUntilAsync(() => nacos.GetInstances("order-app").Count == 0, "order-app is deregistered on stop");
        Assert.False(stopping.IsCompleted, "deregistered before the drain delay ended");
        await stopping;
    }

    /// <summary>
    /// Issue 12 item 1: a 3.x server whose gRPC port cannot be reached and that has no v1 API (3.2+: 404) is spoken to
    /// over its v3 client HTTP API: registration, heartbeats, polled discovery, deregistration on stop.
    /// </summary>
    [Theory]
    [InlineData("Http")]
    [InlineData(null)]
    public async Task On_3_2_with_grpc_unreachable_the_v3_http_api_registers_discovers_by_polling_and_deregisters(string? transport)
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(NacosServerLine.Nacos32);
        nacos.Faults.RejectGrpcConnections(TimeSpan.FromMinutes(10));
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"));
        var settings = new Dictionary<string, string?> { ["nacos:DrainDelay"] = "00:00:05", ["nacos:V3PollInterval"] = "00:00:00.300" };
        if (transport is not null)
        {
            settings["nacos:Transport"] = transport;
        }

        var app = await StartAppAsync(nacos, settings);
        await Eventually.WaitUntilAsync(() => nacos.GetInstances("order-app").Count == 1, "order-app is registered over v3");
        Assert.Equal("V2", nacos.GetInstances("order-app").Single().Metadata["version"]);
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.NamingTransportChosen && r.Message.Contains("uses HTTP", StringComparison.Ordinal));
        if (transport is null)
        {
            Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.NamingTransportChosen && r.Message.Contains("v3 client API", StringComparison.Ordinal));
        }

        var provider = app.Services.GetRequiredService<NacosServiceInstanceProvider>();
        var changed = new TaskCompletionSource<IReadOnlyList<ServiceInstance>>(TaskCreationOptions.RunContinuationsAsynchronously);
        provider.InstancesChanged += (_, e) =>
        {
            if (e.ServiceName == "user-app" && e.Instances.Count == 2)
            {
                changed.TrySetResult(e.Instances);
            }
        };
        var first = Assert.Single((await provider.GetInstancesAsync("user-app", cts.Token))!);
        Assert.Equal("V1", first.Metadata["version"]);
        Assert.True(provider.IsPolled("user-app"));

        nacos.RegisterInstance("user-app", "127.0.0.1", 7202, Version("V2"));
        var polled = await TestSupport.WithTimeout(changed.Task, "the new instance to be polled over v3");
        Assert.Contains(polled, i => i.Port == 7202);
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.V3ApiChosen);
        Assert.Equal(0, nacos.GrpcConnections.Count);

        var stopping = app.StopAsync(CancellationToken.None);
        await Eventually.WaitUntilAsync(() => nacos.GetInstances("order-app").Count == 0, "order-app is deregistered over v3 on stop");
        Assert.False(stopping.IsCompleted, "deregistered before the drain delay ended");
        await stopping;
    }

    /// <summary>v3 heartbeat for an instance the server forgot: HTTP 200 code 21003, then a full registration.</summary>
    [Fact]
    public async Task Over_v3_a_forgotten_instance_is_registered_again_after_its_heartbeat()
    {
        var nacos = await StartNacosAsync(NacosServerLine.Nacos32);
        await StartAppAsync(nacos, new() { ["nacos:Transport"] = "Http", ["nacos:InstanceEnabled"] = "false", ["nacos:Metadata:preserved.heart.beat.interval"] = "1000" });
        await Eventually.WaitUntilAsync(() => nacos.GetInstances("order-app").Count == 1, "order-app is registered over v3");
        var registered = nacos.GetInstances("order-app").Single();

        Assert.True(nacos.RemoveInstance("order-app", registered.Ip, registered.Port));
        await Eventually.WaitUntilAsync(() => nacos.GetInstances("order-app").Count == 1, "order-app is registered again after a heartbeat answered 21003");
        Assert.False(nacos.GetInstances("order-app").Single().Enabled);
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.BeatUnknownInstance);
    }

    [Fact]
    public async Task A_server_restart_re_registers_the_instance_and_re_subscribes_before_anything_else()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(NacosServerLine.Nacos2);
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"), ephemeral: false);
        var app = await StartAppAsync(nacos, new() { ["nacos:Transport"] = "Grpc", ["nacos:InstanceEnabled"] = "false" });
        await Eventually.WaitUntilAsync(() => nacos.GetInstances("order-app").Count == 1, "order-app is registered");
        var provider = app.Services.GetRequiredService<NacosServiceInstanceProvider>();
        Assert.Single((await provider.GetInstancesAsync("user-app", cts.Token))!);

        await nacos.RestartAsync(cts.Token);
        var back = Stopwatch.StartNew();
        await Eventually.WaitUntilAsync(() => nacos.GetInstances("order-app").Count == 1, "order-app is registered again");
        output.WriteLine($"re-registered {back.ElapsedMilliseconds} ms after the server was back");
        Assert.False(nacos.GetInstances("order-app").Single().Enabled);

        await ExpectPushedAsync(nacos, provider, 7202);
    }

    /// <summary>
    /// The first connect registers the instance once: the redo after a connect re-registers only what an earlier
    /// connection had confirmed (before, the redo and the pending register both sent it, and event 401 "re-registered
    /// after a reconnect" was logged at start-up).
    /// </summary>
    [Fact]
    public async Task The_first_connect_registers_once_and_only_a_reconnect_re_registers()
    {
        var nacos = await StartNacosAsync(NacosServerLine.Nacos32);
        await StartAppAsync(nacos, []);
        await Eventually.WaitUntilAsync(() => _logs.GetSnapshot().Any(r => r.Id.Id == EventIds.Registered), "order-app is registered (event 20)");
        Assert.Single(nacos.GetInstances("order-app"));
        Assert.DoesNotContain(_logs.GetSnapshot(), r => r.Id.Id == EventIds.GrpcInstanceRedone);

        await Eventually.WaitUntilAsync(() => nacos.GrpcConnections.Count == 1, "one connection per application");
        Assert.Equal(1, nacos.Faults.DropGrpcConnections());
        await Eventually.WaitUntilAsync(() => _logs.GetSnapshot().Any(r => r.Id.Id == EventIds.GrpcInstanceRedone), "the reconnect re-registers (event 401)");
        Assert.Single(nacos.GetInstances("order-app"));
    }

    /// <summary>
    /// h-nacos item 3: a redo step that fails (the re-registration after a reconnect answered with an error) is sent
    /// again every 3 s while connected (Java RedoScheduledTask), not only at the next connect.
    /// </summary>
    [Fact]
    public async Task A_failed_re_registration_after_a_reconnect_is_retried_while_connected()
    {
        var nacos = await StartNacosAsync(NacosServerLine.Nacos32);
        await StartAppAsync(nacos, []);
        await Eventually.WaitUntilAsync(() => nacos.GetInstances("order-app").Count == 1, "order-app is registered");

        await Eventually.WaitUntilAsync(() => nacos.GrpcConnections.Count == 1, "one connection per application");
        nacos.Faults.FailNextGrpcRequests("InstanceRequest", 1);
        Assert.Equal(1, nacos.Faults.DropGrpcConnections());

        await Eventually.WaitUntilAsync(() => _logs.GetSnapshot().Any(r => r.Id.Id == EventIds.GrpcRedoRetryScheduled), "the redo failed on the new connection");
        await Eventually.WaitUntilAsync(() => nacos.GetInstances("order-app").Count == 1, "order-app is registered again by the redo retry");
        await Eventually.WaitUntilAsync(() => _logs.GetSnapshot().Any(r => r.Id.Id == EventIds.GrpcRedoRetried), "the retry is logged");
        Assert.Equal(1, nacos.GrpcConnections.Count);
    }

    [Fact]
    public async Task A_connection_cut_and_a_connect_reset_are_survived()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(NacosServerLine.Nacos32);
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"), ephemeral: false);
        var app = await StartAppAsync(nacos, new() { ["nacos:InstanceEnabled"] = "false" });
        await Eventually.WaitUntilAsync(() => nacos.GetInstances("order-app").Count == 1, "order-app is registered");
        var provider = app.Services.GetRequiredService<NacosServiceInstanceProvider>();
        Assert.Single((await provider.GetInstancesAsync("user-app", cts.Token))!);

        // The Auto probe's ServerCheck channel may still be closing on a loaded machine: only the app's connection stays.
        await Eventually.WaitUntilAsync(() => nacos.GrpcConnections.Count == 1, "one connection per application");
        Assert.Equal(1, nacos.Faults.DropGrpcConnections());
        await Eventually.WaitUntilAsync(() => nacos.GetInstances("order-app").Count == 1 && nacos.GrpcConnections.Count == 1, "order-app is registered again after the cut");
        Assert.False(nacos.GetInstances("order-app").Single().Enabled);
        await ExpectPushedAsync(nacos, provider, 7202);

        Assert.Equal(1, await nacos.Faults.ResetGrpcConnectionsAsync(cts.Token));
        await Eventually.WaitUntilAsync(() => nacos.GetInstances("order-app").Count == 1 && nacos.GrpcConnections.Count == 1, "order-app is registered after the reset");
        await ExpectPushedAsync(nacos, provider, 7203);
        Assert.Equal(1, nacos.GrpcConnections.Count);
    }

    [Fact]
    public async Task With_auth_on_the_grpc_calls_carry_the_token_of_the_http_login()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos32, GrpcPushDelay = TimeSpan.FromMilliseconds(20), AuthEnabled = true, UserName = "nacos", Password = "s3cret-pw" });
        _disposables.Add(nacos);
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"));
        var app = await StartAppAsync(nacos, new() { ["nacos:UserName"] = "nacos", ["nacos:Password"] = "s3cret-pw" });

        await Eventually.WaitUntilAsync(() => nacos.GetInstances("order-app").Count == 1, "order-app is registered with a token");
        var provider = app.Services.GetRequiredService<NacosServiceInstanceProvider>();
        Assert.Single((await provider.GetInstancesAsync("user-app", cts.Token))!);
        Assert.DoesNotContain(_logs.GetSnapshot(), r => (r.Message + r.Exception).Contains("s3cret-pw", StringComparison.Ordinal));
    }

    /// <summary>
    /// Issue 12 (h-nacos item 2): a token the server no longer accepts (restarted with a new secret: every token revoked)
    /// answers gRPC calls with errorCode 403; the client logs in again once and retries the call.
    /// </summary>
    [Fact]
    public async Task Over_grpc_a_revoked_token_is_replaced_by_a_new_login_and_the_call_retried()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos32, GrpcPushDelay = TimeSpan.FromMilliseconds(20), AuthEnabled = true, UserName = "nacos", Password = "s3cret-pw" });
        _disposables.Add(nacos);
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"));
        nacos.RegisterInstance("stock-app", "127.0.0.1", 7301, Version("V1"));
        var app = await StartAppAsync(nacos, new() { ["nacos:UserName"] = "nacos", ["nacos:Password"] = "s3cret-pw" });
        await Eventually.WaitUntilAsync(() => nacos.GetInstances("order-app").Count == 1, "order-app is registered with a token");
        var provider = app.Services.GetRequiredService<NacosServiceInstanceProvider>();
        Assert.Single((await provider.GetInstancesAsync("user-app", cts.Token))!);

        Assert.True(nacos.Faults.RevokeAccessTokens() >= 1);

        // The next call (a first lookup: SubscribeServiceRequest) meets the 403, logs in again and is sent once more.
        var stock = await provider.GetInstancesAsync("stock-app", cts.Token);
        Assert.Equal(7301, Assert.Single(stock!).Port);
        Assert.Single(_logs.GetSnapshot(), r => r.Id.Id == EventIds.GrpcTokenRejected);
        Assert.DoesNotContain(_logs.GetSnapshot(), r => (r.Message + r.Exception).Contains("s3cret-pw", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_lookup_while_nacos_is_down_falls_back_quickly_and_the_list_arrives_once_it_is_back()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(NacosServerLine.Nacos32);
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"));
        await nacos.StopAsync(cts.Token);
        var app = await StartAppAsync(nacos, new() { ["nacos:Transport"] = "Grpc", ["nacos:RegisterEnabled"] = "false", ["nacos:DefaultTimeOut"] = "15000" });
        var provider = app.Services.GetRequiredService<NacosServiceInstanceProvider>();
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        provider.InstancesChanged += (_, e) =>
        {
            if (e.ServiceName == "user-app" && e.Instances.Count == 1)
            {
                arrived.TrySetResult();
            }
        };

        var watch = Stopwatch.StartNew();
        Assert.Null(await provider.GetInstancesAsync("user-app", cts.Token));
        output.WriteLine($"first lookup with Nacos down answered in {watch.ElapsedMilliseconds} ms");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"the first lookup waited {watch.Elapsed} (the whole request timeout) for a connection");

        // The subscription was kept: the redo after the connect delivers the list without another lookup.
        await nacos.RestartAsync(cts.Token);
        await TestSupport.WithTimeout(arrived.Task.ContinueWith(_ => true, TaskScheduler.Default), "the list once Nacos is back");
    }

    [Fact]
    public async Task A_push_carries_no_gray_tag_or_activity_of_the_first_caller()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(NacosServerLine.Nacos32);
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, Version("V1"));
        var app = await StartAppAsync(nacos, []);
        var provider = app.Services.GetRequiredService<NacosServiceInstanceProvider>();
        var seen = new TaskCompletionSource<(GrayStatus? Status, Activity? Activity)>(TaskCreationOptions.RunContinuationsAsynchronously);
        provider.InstancesChanged += (_, e) =>
        {
            if (e.Instances.Count == 2)
            {
                seen.TrySetResult((GrayContext.Current, Activity.Current));
            }
        };

        using (new Activity("incoming request").Start())
        using (GrayContext.Begin(GrayStatus.Gray))
        {
            Assert.Single((await provider.GetInstancesAsync("user-app", cts.Token))!);
        }

        nacos.RegisterInstance("user-app", "127.0.0.1", 7202, Version("V2"));
        var (status, activity) = await TestSupport.WithTimeout(seen.Task, "the pushed change");
        Assert.Null(status);
        Assert.Null(activity);
    }

    [Fact]
    public async Task An_unknown_service_is_not_kept_subscribed()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartNacosAsync(NacosServerLine.Nacos32);
        var app = await StartAppAsync(nacos, new() { ["nacos:RegisterEnabled"] = "false" });
        var provider = app.Services.GetRequiredService<NacosServiceInstanceProvider>();
        var transport = (GrpcNamingTransport)await app.Services.GetRequiredService<NacosNamingTransportSelector>().GetAsync(cts.Token);

        Assert.Null(await provider.GetInstancesAsync("api.example.com", cts.Token));
        await Eventually.WaitUntilAsync(() => transport.Subscriptions.Count == 0, "the unknown name is unsubscribed");
    }

    [Fact]
    public async Task A_malformed_push_is_ignored_and_later_pushes_still_apply()
    {
        using var cts = TestSupport.Timeout();
        await using var server = await FakeNacosGrpcServer.StartAsync();
        var options = new NacosOptions { ServerAddresses = [server.ServerAddress], SnapshotPath = TestSupport.NewSnapshotPath(), DefaultTimeOut = 5000 };
        var logger = new FakeLogger<NacosServiceInstanceProvider>(_logs);
        await using var connection = new NacosGrpcConnection(options, logger);
        using var transport = new GrpcNamingTransport(connection, options, logger);
        using var http = new NacosHttpClient(options, TimeProvider.System, logger);
        await using var provider = new NacosServiceInstanceProvider(NacosNamingTransportSelector.Fixed(transport), http, options, TimeProvider.System, logger);
        var first = (await provider.GetInstancesAsync("user-app", cts.Token))!;
        var stream = await server.WaitForStreamAsync(s => s.SetupDone);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        var bad = await stream.PushAsync(Push(now, new NacosGrpcInstance { Ip = string.Empty, Port = 0 }));
        await stream.WriteAsync(new Payload
        {
            Metadata = new Metadata { Type = "NotifySubscriberRequest" },
            Body = new Google.Protobuf.WellKnownTypes.Any { Value = Google.Protobuf.ByteString.CopyFromUtf8("{\"requestId\":\"77\",\"serviceInfo\":{\"hosts\":[{\"port\":\"eighty\"}]}") },
        });
        var good = await stream.PushAsync(Push(now + 1, new NacosGrpcInstance { Ip = "10.0.0.9", Port = 7209, ClusterName = "DEFAULT", Metadata = new() { ["version"] = "V3" } }));

        Assert.True(bad.Success, "a list we cannot read is still answered (else the server re-pushes it every second)");
        Assert.True(good.Success);
        await Eventually.WaitUntilAsync(
            async () => (await provider.GetInstancesAsync("user-app", cts.Token))!.Count == 1,
            "the good push is applied");
        Assert.Equal(7209, (await provider.GetInstancesAsync("user-app", cts.Token))!.Single().Port);
        Assert.NotEmpty(first);
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.GrpcMalformedList);
    }

    [Fact]
    public async Task After_a_reconnect_instances_are_registered_then_services_subscribed_before_any_other_request()
    {
        using var cts = TestSupport.Timeout();
        await using var server = await FakeNacosGrpcServer.StartAsync();
        var options = new NacosOptions { ServerAddresses = [server.ServerAddress], SnapshotPath = TestSupport.NewSnapshotPath(), DefaultTimeOut = 5000 };
        var logger = new FakeLogger<NacosServiceInstanceProvider>(_logs);
        await using var connection = new NacosGrpcConnection(options, logger);
        using var transport = new GrpcNamingTransport(connection, options, logger);
        var registration = new NacosRegistration("order-app", "DEFAULT_GROUP", "DEFAULT", "10.0.0.8", 7300, 1, Enabled: false, Ephemeral: true, new Dictionary<string, string> { ["version"] = "V2" });
        await transport.RegisterAsync(registration, cts.Token);
        await transport.SubscribeAsync("user-app", 0, null, cts.Token);
        var first = await server.WaitForStreamAsync();

        first.Drop();
        var second = await server.WaitForStreamAsync(s => s.Connection != first.Connection);
        await connection.RequestAsync<QueryServiceResponse>(new ServiceQueryRequest { Namespace = "public", GroupName = "DEFAULT_GROUP", ServiceName = "user-app", Cluster = string.Empty }, cts.Token);

        var onSecond = server.Requests.Where(r => r.Connection == second.Connection && r.Message is not ServerCheckRequest and not HealthCheckRequest).Select(r => r.Message).ToList();
        Assert.True(onSecond.Count >= 3, string.Join(", ", onSecond.Select(m => m.GetType().Name)));
        var redone = Assert.IsType<InstanceRequest>(onSecond[0]);
        Assert.Equal((InstanceRequest.Register, "10.0.0.8", 7300, false), (redone.Type, redone.Instance!.Ip, redone.Instance.Port, redone.Instance.Enabled));
        Assert.Equal("V2", redone.Instance.Metadata!["version"]);
        Assert.Equal("user-app", Assert.IsType<SubscribeServiceRequest>(onSecond[1]).ServiceName);
        Assert.IsType<ServiceQueryRequest>(onSecond[2]);
    }

    private static NotifySubscriberRequest Push(long lastRefTime, params NacosGrpcInstance[] hosts) => new()
    {
        ServiceInfo = new NacosGrpcServiceInfo { Name = "user-app", GroupName = "DEFAULT_GROUP", Clusters = string.Empty, CacheMillis = 10000, LastRefTime = lastRefTime, Hosts = [.. hosts] },
    };

    private static async Task ExpectPushedAsync(NacosEmulator nacos, NacosServiceInstanceProvider provider, int port)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        provider.InstancesChanged += (_, e) =>
        {
            if (e.ServiceName == "user-app" && e.Instances.Any(i => i.Port == port))
            {
                seen.TrySetResult();
            }
        };
        nacos.RegisterInstance("user-app", "127.0.0.1", port, Version("V1"), ephemeral: false);
        await TestSupport.WithTimeout(seen.Task.ContinueWith(_ => true, TaskScheduler.Default), $"instance {port} to be pushed (subscription redone)");
    }

    private static Dictionary<string, string> Version(string version) => new() { ["version"] = version };

    private async Task<NacosEmulator> StartNacosAsync(NacosServerLine line)
    {
        var nacos = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = line, GrpcPushDelay = TimeSpan.FromMilliseconds(20) });
        _disposables.Add(nacos);
        return nacos;
    }

    private async Task<WebApplication> StartAppAsync(NacosEmulator nacos, Dictionary<string, string?> extra)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "order-app" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders().AddProvider(new FakeLoggerProvider(_logs)).SetMinimumLevel(LogLevel.Debug);
        var settings = new Dictionary<string, string?>
        {
            ["nacos:ServerAddresses:0"] = nacos.ServerAddress,
            ["nacos:SnapshotPath"] = TestSupport.NewSnapshotPath(),
            ["nacos:DefaultTimeOut"] = "5000",
            ["nacos:DrainDelay"] = "00:00:00",
            ["GrayRelease:Version"] = "V2",
        };
        foreach (var pair in extra)
        {
            settings[pair.Key] = pair.Value;
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddGrayRelease().AddNacos();
        var app = builder.Build();
        app.MapGet("/ping", () => "pong");
        _disposables.Add(app);
        await app.StartAsync();
        return app;
    }
}
