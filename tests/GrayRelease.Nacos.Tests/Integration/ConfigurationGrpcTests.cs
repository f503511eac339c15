using System.Collections.Concurrent;
using System.Diagnostics;
using GrayRelease.Nacos.Configuration;
using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Primitives;
using Xunit.Abstractions;

namespace GrayRelease.Nacos.Tests.Integration;

/// <summary>
/// The configuration source on every emulated server line and transport it serves (issue 12): real emulator, real
/// gRPC (h2c) and HTTP on loopback.
/// </summary>
public sealed class ConfigurationGrpcTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly FakeLogCollector _logs = new();
    private readonly List<IDisposable> _roots = [];
    private readonly List<NacosEmulator> _emulators = [];

    /// <summary>Every (line, transport) pair a line serves by default: 1.4 HTTP only, 2 / 3.1 both, 3.2 gRPC and the v3 client HTTP API.</summary>
    public static TheoryData<NacosServerLine, NacosTransport> Served => new()
    {
        { NacosServerLine.Nacos14, NacosTransport.Http },
        { NacosServerLine.Nacos2, NacosTransport.Http },
        { NacosServerLine.Nacos2, NacosTransport.Grpc },
        { NacosServerLine.Nacos31, NacosTransport.Http },
        { NacosServerLine.Nacos31, NacosTransport.Grpc },
        { NacosServerLine.Nacos32, NacosTransport.Http },
        { NacosServerLine.Nacos32, NacosTransport.Grpc },
    };

    public static TheoryData<NacosServerLine> GrpcLines => new() { NacosServerLine.Nacos2, NacosServerLine.Nacos31, NacosServerLine.Nacos32 };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var root in _roots)
        {
            root.Dispose();
        }

        foreach (var emulator in _emulators)
        {
            await emulator.DisposeAsync();
        }
    }

    [Theory]
    [MemberData(nameof(Served))]
    public async Task Loads_at_start_and_reloads_on_a_publish(NacosServerLine line, NacosTransport transport)
    {
        var nacos = await StartAsync(line);
        nacos.PublishConfig("common.yaml", "DEFAULT_GROUP", "GrayRelease:\n  ProdVersion: V1\n  GrayVersion: V2\n");
        var root = Build(Options(nacos, transport, new NacosListenerOptions { DataId = "common.yaml" }));
        Assert.Equal("V2", root["GrayRelease:GrayVersion"]);
        Assert.Equal(
            transport == NacosTransport.Grpc ? "gRPC" : line == NacosServerLine.Nacos32 ? "HTTP (v3 client API, polling)" : "HTTP long polling",
            Provider(root).Transport!.Name);

        await ChangeAndWaitAsync(root, "GrayRelease:GrayVersion", "V3", () => nacos.PublishConfig("common.yaml", "DEFAULT_GROUP", "GrayRelease:\n  ProdVersion: V1\n  GrayVersion: V3\n"));
        Assert.Equal("V1", root["GrayRelease:ProdVersion"]);
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.ConfigChanged);
    }

    [Theory]
    [MemberData(nameof(Served))]
    public async Task A_missing_optional_data_id_is_empty_until_published_and_a_required_one_stops_start_up(NacosServerLine line, NacosTransport transport)
    {
        var nacos = await StartAsync(line);
        var error = Assert.Throws<InvalidOperationException>(() => Build(Options(nacos, transport, new NacosListenerOptions { DataId = "missing.yaml", Group = "MY_GROUP" })));
        Assert.Contains("missing.yaml", error.Message, StringComparison.Ordinal);
        Assert.Contains("MY_GROUP", error.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
        if (transport == NacosTransport.Grpc)
        {
            // Nobody disposes a provider whose build threw: its connection must not live on.
            await Eventually.WaitUntilAsync(() => nacos.GrpcConnections.Count == 0, "the failed source's gRPC connection is closed");
        }

        var root = Build(Options(nacos, transport, new NacosListenerOptions { DataId = "later.yaml", Optional = true }));
        Assert.Null(root["a"]);
        await ChangeAndWaitAsync(root, "a", "1", () => nacos.PublishConfig("later.yaml", "DEFAULT_GROUP", "a: 1"));
    }

    [Theory]
    [MemberData(nameof(Served))]
    public async Task After_a_server_restart_a_change_made_during_the_outage_is_picked_up_and_later_changes_still_arrive(NacosServerLine line, NacosTransport transport)
    {
        var nacos = await StartAsync(line);
        nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 1");
        var root = Build(Options(nacos, transport, new NacosListenerOptions { DataId = "a.yaml" }));
        Assert.Equal("1", root["a"]);
        await WaitListeningAsync(root, transport);

        await ChangeAndWaitAsync(root, "a", "2", () =>
        {
            // Down, changed while down (only the in-memory store), up again: the listeners died with the server.
            nacos.StopAsync().GetAwaiter().GetResult();
            nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 2");
            nacos.RestartAsync().GetAwaiter().GetResult();
        });

        // Listening again, not only queried once.
        await ChangeAndWaitAsync(root, "a", "3", () => nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 3"));
        if (transport == NacosTransport.Grpc)
        {
            Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.ConfigRelistened);
        }
    }

    /// <summary>h-nacos item 3: a re-listen after a reconnect that fails is retried every 3 s while connected, so pushes come again.</summary>
    [Fact]
    public async Task A_failed_re_listen_after_a_reconnect_is_retried_while_connected()
    {
        var nacos = await StartAsync(NacosServerLine.Nacos32);
        nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 1");
        var root = Build(Options(nacos, NacosTransport.Grpc, new NacosListenerOptions { DataId = "a.yaml" }));
        await WaitListeningAsync(root, NacosTransport.Grpc);

        nacos.Faults.FailNextGrpcRequests("ConfigBatchListenRequest", 1);
        Assert.Equal(1, nacos.Faults.DropGrpcConnections());
        await Eventually.WaitUntilAsync(() => nacos.GrpcConnections.All.Any(c => c.Listeners.Count > 0), "the config is listened to again after the failed redo");

        await ChangeAndWaitAsync(root, "a", "2", () => nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 2"));
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.GrpcRedoRetried);
    }

    [Theory]
    [MemberData(nameof(GrpcLines))]
    public async Task Dropped_connections_are_survived_and_a_change_while_reconnecting_is_picked_up(NacosServerLine line)
    {
        var nacos = await StartAsync(line);
        nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 1");
        var root = Build(Options(nacos, NacosTransport.Grpc, new NacosListenerOptions { DataId = "a.yaml" }));
        await WaitListeningAsync(root, NacosTransport.Grpc);

        await ChangeAndWaitAsync(root, "a", "2", () =>
        {
            nacos.Faults.RejectGrpcConnections(TimeSpan.FromSeconds(1));
            Assert.True(nacos.Faults.DropGrpcConnections() >= 1);
            nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 2");
        });

        Assert.True(nacos.Faults.DropGrpcConnections() >= 1);
        await ChangeAndWaitAsync(root, "a", "3", () => nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 3"));
    }

    [Theory]
    [MemberData(nameof(GrpcLines))]
    public async Task A_connect_reset_is_survived(NacosServerLine line)
    {
        var nacos = await StartAsync(line);
        nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 1");
        var root = Build(Options(nacos, NacosTransport.Grpc, new NacosListenerOptions { DataId = "a.yaml" }));
        var transport = (GrpcConfigTransport)Provider(root).Transport!;
        await WaitListeningAsync(root, NacosTransport.Grpc);
        var before = transport.Connection.ConnectionId;

        Assert.True(await nacos.Faults.ResetGrpcConnectionsAsync() >= 1);
        await Eventually.WaitUntilAsync(() => transport.Connection.ConnectionId is { } id && id != before, "a new connection after ConnectResetRequest");

        await ChangeAndWaitAsync(root, "a", "2", () => nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 2"));
    }

    [Theory]
    [InlineData(NacosServerLine.Nacos14, "HTTP long polling")]
    [InlineData(NacosServerLine.Nacos2, "gRPC")]
    [InlineData(NacosServerLine.Nacos31, "gRPC")]
    [InlineData(NacosServerLine.Nacos32, "gRPC")]
    public async Task Auto_picks_grpc_where_the_server_serves_it_and_http_on_1_4_and_says_so_once(NacosServerLine line, string expected)
    {
        var nacos = await StartAsync(line);
        nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 1");
        var root = Build(Options(nacos, NacosTransport.Auto, new NacosListenerOptions { DataId = "a.yaml" }));

        Assert.Equal(expected, Provider(root).Transport!.Name);
        var chosen = Assert.Single(_logs.GetSnapshot(), r => r.Id.Id == EventIds.ConfigTransportChosen);
        Assert.Contains(expected, chosen.Message, StringComparison.Ordinal);
        Assert.Contains("Auto", chosen.Message, StringComparison.Ordinal);
        await ChangeAndWaitAsync(root, "a", "2", () => nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 2"));
    }

    /// <summary>Issue 12 item 1: Auto on a 3.2 server whose gRPC port is closed reads and polls over the v3 client API.</summary>
    [Fact]
    public async Task Auto_on_3_2_with_grpc_unreachable_reads_and_polls_over_the_v3_http_api()
    {
        var nacos = await StartAsync(NacosServerLine.Nacos32);
        nacos.Faults.RejectGrpcConnections(TimeSpan.FromMinutes(10));
        nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 1");
        var root = Build(Options(nacos, NacosTransport.Auto, new NacosListenerOptions { DataId = "a.yaml" }));

        Assert.Equal("1", root["a"]);
        Assert.Equal("HTTP (v3 client API, polling)", Provider(root).Transport!.Name);
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.V3ApiChosen && r.Message.Contains("configuration", StringComparison.Ordinal));
        await ChangeAndWaitAsync(root, "a", "2", () => nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 2"));
    }

    /// <summary>
    /// Found by the soak run (issue 16): a 3.x server whose ServerCheck did not answer at start-up (a loaded machine)
    /// while its HTTP API did. The first successful read cleared the re-probe, so the process polled over v3 HTTP for
    /// its whole life. A v3 server serves gRPC: Auto keeps looking, backing off, and moves once it answers.
    /// </summary>
    [Fact]
    public async Task Auto_on_3_2_whose_grpc_did_not_answer_at_start_up_moves_to_grpc_once_it_answers()
    {
        var nacos = await StartAsync(NacosServerLine.Nacos32);
        nacos.Faults.RejectGrpcConnections(TimeSpan.FromMinutes(10));
        nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 1");
        var root = Build(Options(nacos, NacosTransport.Auto, new NacosListenerOptions { DataId = "a.yaml" }));
        Assert.Equal("HTTP (v3 client API, polling)", Provider(root).Transport!.Name);
        await ChangeAndWaitAsync(root, "a", "2", () => nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 2"));

        nacos.Faults.RejectGrpcConnections(TimeSpan.Zero);
        await Eventually.WaitUntilAsync(() => Provider(root).Transport!.Name == "gRPC", "Auto moves to gRPC once the 3.2 server's ServerCheck answers");
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.ConfigTransportChosen && r.Message.Contains("now answers ServerCheck", StringComparison.Ordinal));
        await ChangeAndWaitAsync(root, "a", "3", () => nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 3"));
    }

    [Fact]
    public async Task Auto_during_an_outage_at_start_up_serves_the_snapshot_and_moves_to_grpc_when_a_3_2_server_comes_back()
    {
        var nacos = await StartAsync(NacosServerLine.Nacos32);
        nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 1");
        var first = Options(nacos, NacosTransport.Grpc, new NacosListenerOptions { DataId = "a.yaml" });
        var earlier = Build(first);
        Assert.Equal("1", earlier["a"]);
        ((IDisposable)earlier).Dispose();
        await nacos.StopAsync();
        nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 2");

        var options = Options(nacos, NacosTransport.Auto, new NacosListenerOptions { DataId = "a.yaml" });
        options.SnapshotPath = first.SnapshotPath;
        var root = Build(options);

        // Nobody answered ServerCheck: HTTP, and the snapshot of the earlier run.
        Assert.Equal("1", root["a"]);
        Assert.Equal("HTTP long polling", Provider(root).Transport!.Name);
        await ChangeAndWaitAsync(root, "a", "2", () => nacos.RestartAsync().GetAwaiter().GetResult());
        Assert.Equal("gRPC", Provider(root).Transport!.Name);
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.ConfigTransportChosen && r.Message.Contains("now answers ServerCheck", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Over_grpc_with_the_server_down_at_start_up_the_snapshot_serves_and_the_server_is_followed_once_back()
    {
        var nacos = await StartAsync(NacosServerLine.Nacos32);
        nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 1");
        var first = Options(nacos, NacosTransport.Grpc, new NacosListenerOptions { DataId = "a.yaml" });
        ((IDisposable)Build(first)).Dispose();
        await nacos.StopAsync();
        nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 2");

        var options = Options(nacos, NacosTransport.Grpc, new NacosListenerOptions { DataId = "a.yaml" });
        options.SnapshotPath = first.SnapshotPath;
        options.DefaultTimeOut = 1000;
        var root = Build(options);

        Assert.Equal("1", root["a"]);
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.ConfigFromSnapshot);
        await ChangeAndWaitAsync(root, "a", "2", () => nacos.RestartAsync().GetAwaiter().GetResult());
        await ChangeAndWaitAsync(root, "a", "3", () => nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 3"));
    }

    [Fact]
    public async Task ConfigUseRpc_means_grpc_for_configuration()
    {
        var nacos = await StartAsync(NacosServerLine.Nacos31);
        nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 1");
        var options = Options(nacos, NacosTransport.Auto, new NacosListenerOptions { DataId = "a.yaml" });
        options.ConfigUseRpc = true;

        var root = Build(options);

        Assert.Equal("gRPC", Provider(root).Transport!.Name);
        Assert.Contains("ConfigUseRpc", Assert.Single(_logs.GetSnapshot(), r => r.Id.Id == EventIds.ConfigTransportChosen).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(NacosServerLine.Nacos31)]
    [InlineData(NacosServerLine.Nacos32)]
    public async Task With_auth_on_every_grpc_config_call_carries_the_token_of_the_http_login(NacosServerLine line)
    {
        var nacos = await StartAsync(line, auth: true);
        nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 1");
        var options = Options(nacos, NacosTransport.Grpc, new NacosListenerOptions { DataId = "a.yaml" });
        options.UserName = "nacos";
        options.Password = "nacos";

        var root = Build(options);

        Assert.Equal("1", root["a"]);
        await WaitListeningAsync(root, NacosTransport.Grpc);
        await ChangeAndWaitAsync(root, "a", "2", () => nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 2"));
        Assert.DoesNotContain("nacos:Password", TestSupport.AllText(_logs), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_auth_on_and_no_credentials_a_required_config_fails_with_the_servers_refusal()
    {
        var nacos = await StartAsync(NacosServerLine.Nacos32, auth: true);
        nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 1");

        var error = Assert.Throws<InvalidOperationException>(() => Build(Options(nacos, NacosTransport.Grpc, new NacosListenerOptions { DataId = "a.yaml" })));

        Assert.Contains("a.yaml", error.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<NacosException>(error.InnerException);
    }

    [Fact]
    public async Task Over_grpc_a_malformed_update_keeps_the_last_valid_values_and_the_next_good_one_applies()
    {
        var nacos = await StartAsync(NacosServerLine.Nacos32);
        nacos.PublishConfig("a.json", "DEFAULT_GROUP", """{"a":"1"}""");
        var root = Build(Options(nacos, NacosTransport.Grpc, new NacosListenerOptions { DataId = "a.json" }));
        await WaitListeningAsync(root, NacosTransport.Grpc);

        nacos.PublishConfig("a.json", "DEFAULT_GROUP", """{"a": """);
        await Eventually.WaitUntilAsync(() => _logs.GetSnapshot().Any(r => r.Id.Id == EventIds.ConfigMalformed), "the malformed update is logged");
        Assert.Equal("1", root["a"]);

        await ChangeAndWaitAsync(root, "a", "2", () => nacos.PublishConfig("a.json", "DEFAULT_GROUP", """{"a":"2"}"""));
    }

    [Theory]
    [InlineData(NacosTransport.Grpc)]
    [InlineData(NacosTransport.Http)]
    public async Task The_listener_and_the_push_handler_carry_no_gray_tag_or_activity_of_the_first_caller(NacosTransport transport)
    {
        var nacos = await StartAsync(NacosServerLine.Nacos31);
        nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 1");
        var capture = new ContextCapture();
        var options = Options(nacos, transport, new NacosListenerOptions { DataId = "a.yaml" });
        IConfigurationRoot root;
        using (GrayContext.Begin(GrayStatus.Gray))
        using (new Activity("first-request").Start())
        {
            root = Build(options, new LoggerFactory([capture, new FakeLoggerProvider(_logs)]));
        }

        await WaitListeningAsync(root, transport);
        var reloadContext = new TaskCompletionSource<(GrayStatus?, Activity?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = ChangeToken.OnChange(root.GetReloadToken, () => reloadContext.TrySetResult((GrayContext.Current, Activity.Current)));
        nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 2");

        var (gray, activity) = await TestSupport.WithTimeout(reloadContext.Task, "the reload");
        Assert.Null(gray);
        Assert.Null(activity);
        Assert.Equal("2", root["a"]);
        var changedRecord = capture.Records.First(r => r.EventId == EventIds.ConfigChanged);
        Assert.Null(changedRecord.Gray);
        Assert.Null(changedRecord.ActivityName);
        if (transport == NacosTransport.Grpc)
        {
            var notified = capture.Records.FirstOrDefault(r => r.EventId == EventIds.ConfigChangeNotified);
            Assert.True(notified.EventId == EventIds.ConfigChangeNotified, "logged: " + string.Join(",", capture.Records.Select(r => r.EventId)));
            Assert.Null(notified.Gray);
            Assert.Null(notified.ActivityName);
        }
    }

    /// <summary>Publish → IConfiguration reloaded (gRPC push on 3.2; HTTP long polling on 2 for comparison); reported, not asserted tightly.</summary>
    [Theory]
    [InlineData(NacosServerLine.Nacos32, NacosTransport.Grpc)]
    [InlineData(NacosServerLine.Nacos2, NacosTransport.Http)]
    public async Task Publish_to_reload_latency(NacosServerLine line, NacosTransport transport)
    {
        var nacos = await StartAsync(line);
        nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 0");
        var root = Build(Options(nacos, transport, new NacosListenerOptions { DataId = "a.yaml" }));
        await WaitListeningAsync(root, transport);

        var samples = new List<double>();
        for (var i = 1; i <= 7; i++)
        {
            var value = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var watch = Stopwatch.StartNew();
            await ChangeAndWaitAsync(root, "a", value, () => nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: " + value));
            samples.Add(watch.Elapsed.TotalMilliseconds);
        }

        samples.Sort();
        output.WriteLine($"publish → reload, {line} {transport}, ms: median {samples[samples.Count / 2]:0.0}, min {samples[0]:0.0}, max {samples[^1]:0.0}; all {string.Join(", ", samples.Select(s => s.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)))}");
        Assert.True(samples[samples.Count / 2] < 5000, "a push or a held long poll carries the change, not a retry");
    }

    private static NacosConfigurationProvider Provider(IConfigurationRoot root) => root.Providers.OfType<NacosConfigurationProvider>().Single();

    /// <summary>Reload noticed by the reload token (not by polling the value), within the generous deadline.</summary>
    private static async Task ChangeAndWaitAsync(IConfigurationRoot root, string key, string expected, Action change)
    {
        var reloaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = ChangeToken.OnChange(root.GetReloadToken, () =>
        {
            if (root[key] == expected)
            {
                reloaded.TrySetResult();
            }
        });
        change();
        await TestSupport.WithTimeout(reloaded.Task.ContinueWith(_ => true, TaskScheduler.Default), $"'{key}' = '{expected}' after a reload");
        Assert.Equal(expected, root[key]);
    }

    /// <summary>gRPC: the first batch listen is done (the loop is waiting for pushes); HTTP: the loop is running.</summary>
    private async Task WaitListeningAsync(IConfigurationRoot root, NacosTransport transport)
    {
        var provider = Provider(root);
        await Eventually.WaitUntilAsync(() => provider.ListenLoop is not null, "the listen loop started");
        if (transport == NacosTransport.Grpc)
        {
            var nacos = _emulators[^1];
            await Eventually.WaitUntilAsync(() => nacos.GrpcConnections.All.Any(c => c.Listeners.Count > 0), "the config is listened to over gRPC");
        }
    }

    private async Task<NacosEmulator> StartAsync(NacosServerLine line, bool auth = false)
    {
        var nacos = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = line, AuthEnabled = auth });
        _emulators.Add(nacos);
        return nacos;
    }

    private static NacosOptions Options(NacosEmulator nacos, NacosTransport transport, params NacosListenerOptions[] listeners)
    {
        var options = TestSupport.Options(nacos);
        options.Transport = transport;
        options.Listeners = [.. listeners];
        options.ListenInterval = 100;
        options.V3PollInterval = TimeSpan.FromMilliseconds(200);
        return options;
    }

    private IConfigurationRoot Build(NacosOptions options, ILoggerFactory? loggerFactory = null)
    {
        var root = new ConfigurationBuilder()
            .AddNacosConfiguration(source =>
            {
                source.Options = options;
                source.LoggerFactory = loggerFactory ?? new LoggerFactory([new FakeLoggerProvider(_logs)]);
            })
            .Build();
        _roots.Add((IDisposable)root);
        return root;
    }

    /// <summary>Records, for every log line, the gray tag and Activity of the thread that wrote it.</summary>
    private sealed class ContextCapture : ILoggerProvider, ILogger
    {
        public ConcurrentQueue<(int EventId, GrayStatus? Gray, string? ActivityName)> Records { get; } = new();

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Records.Enqueue((eventId.Id, GrayContext.Current, Activity.Current?.OperationName));

        public void Dispose()
        {
        }
    }
}
