using GrayRelease.Nacos.Configuration;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Nacos.Http;
using GrayRelease.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using GrayRelease.Nacos.Diagnostics;

namespace GrayRelease.Nacos.Tests.Integration;

/// <summary>
/// The publisher's transports are built as the configuration provider's are (one ConfigTransportChooser): over gRPC it
/// logs in again when the server no longer accepts its token, over the v3 HTTP API it polls every nacos:V3PollInterval.
/// </summary>
public sealed class ConfigPublisherTransportTests : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _disposables = [];
    private readonly FakeLogCollector _logs = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _disposables.Count - 1; i >= 0; i--)
        {
            await _disposables[i].DisposeAsync();
        }
    }

    // A server restarted with a new token secret refuses every token issued before (gRPC errorCode 403): the rollout
    // engine keeps its state through the publisher, so without a re-login it could neither read nor write that state
    // until the token's own refresh time (hours).
    [Fact]
    public async Task Over_grpc_the_publisher_logs_in_again_when_its_token_is_revoked()
    {
        using var timeout = TestSupport.Timeout();
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos32, AuthEnabled = true, UserName = "nacos", Password = "s3cret-pw" });
        var options = Options(nacos, NacosTransport.Grpc);
        options.UserName = "nacos";
        options.Password = "s3cret-pw";
        var handler = new RecordingHandler();
        var publisher = Publisher(options, TimeProvider.System, handler);
        Assert.True(await publisher.PublishAsync("state.json", "GRAY", "{\"step\":0}", casMd5: NacosConfigKey.Md5(string.Empty), type: "json", cancellationToken: timeout.Token));
        var held = await publisher.GetAsync("state.json", "GRAY", timeout.Token);
        Assert.Equal(1, handler.Count("/login"));

        Assert.True(nacos.Faults.RevokeAccessTokens() >= 1);

        Assert.True(await publisher.PublishAsync("state.json", "GRAY", "{\"step\":1}", held!.Md5, "json", timeout.Token));
        Assert.Equal("{\"step\":1}", (await publisher.GetAsync("state.json", "GRAY", timeout.Token))!.Content);
        Assert.Equal("{\"step\":1}", nacos.GetConfig("state.json", "GRAY"));
        Assert.Equal(2, handler.Count("/login"));
        Assert.DoesNotContain("s3cret-pw", TestSupport.AllText(_logs), StringComparison.Ordinal);
    }

    // A watch (the rollout engine's WaitForChangeAsync) on a server without the v1 API polls the v3 client API: every
    // nacos:V3PollInterval on the application's clock, as the provider does, and says so in the log.
    [Fact]
    public async Task Over_the_v3_http_api_a_watch_polls_every_v3_poll_interval_on_the_given_clock_and_logs_the_switch()
    {
        using var timeout = TestSupport.Timeout();
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos32 });
        nacos.PublishConfig("state.json", "GRAY", "{\"step\":0}", type: "json");
        var options = Options(nacos, NacosTransport.Http);
        options.V3PollInterval = TimeSpan.FromSeconds(45);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var publisher = Publisher(options, clock);
        var held = await publisher.GetAsync("state.json", "GRAY", timeout.Token);

        var switched = Assert.Single(_logs.GetSnapshot(), r => r.Id.Id == EventIds.V3ApiChosen);
        Assert.Contains("00:00:45", switched.Message, StringComparison.Ordinal);

        var watch = publisher.WaitForChangeAsync("state.json", "GRAY", held!.Md5, timeout.Token);
        nacos.PublishConfig("state.json", "GRAY", "{\"step\":1}", type: "json");

        // Advancing less than the interval polls nothing; the interval itself (on the fake clock) lets the poll run.
        clock.Advance(TimeSpan.FromSeconds(40));
        Assert.False(watch.IsCompleted);
        await Eventually.WaitUntilAsync(
            () =>
            {
                clock.Advance(TimeSpan.FromSeconds(5));
                return watch.IsCompleted;
            },
            "the watch polls once the fake clock passes nacos:V3PollInterval");
        await watch;
    }

    // Nacos 3.2 serves no v1 API, and its v3 client API reads configs only (config/.../controller/v3/
    // ConfigOpenApiController.java has one @GetMapping): over HTTP a publish cannot work. Under Auto that happens when the
    // gRPC port did not answer ServerCheck at the first call; the error must say so, not pass on the server's bare 404.
    [Fact]
    public async Task Auto_on_3_2_without_a_grpc_answer_a_publish_over_http_fails_saying_why()
    {
        using var timeout = TestSupport.Timeout();
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos32 });
        nacos.Faults.RejectGrpcConnections(TimeSpan.FromMinutes(10));
        nacos.PublishConfig("state.json", "GRAY", "{\"step\":0}", type: "json");
        var publisher = Publisher(Options(nacos, NacosTransport.Auto), TimeProvider.System);

        // The first call a publish: the client does not know yet that v1 is gone.
        var first = await Assert.ThrowsAnyAsync<NacosException>(() => publisher.PublishAsync("state.json", "GRAY", "{\"step\":1}", cancellationToken: timeout.Token));
        Assert.StartsWith("HTTP", publisher.Transport!.Name, StringComparison.Ordinal);
        AssertSaysWhy(first);

        var held = await publisher.GetAsync("state.json", "GRAY", timeout.Token);
        Assert.Equal("HTTP (v3 client API, polling)", publisher.Transport!.Name);
        var second = await Assert.ThrowsAnyAsync<NacosException>(() => publisher.PublishAsync("state.json", "GRAY", "{\"step\":1}", held!.Md5, "json", timeout.Token));
        AssertSaysWhy(second);
        Assert.Equal("{\"step\":0}", nacos.GetConfig("state.json", "GRAY"));

        static void AssertSaysWhy(NacosException error)
        {
            Assert.Contains("v3 client API has no publish", error.Message, StringComparison.Ordinal);
            Assert.Contains("gRPC port", error.Message, StringComparison.Ordinal);
            Assert.Contains("nacos:Transport", error.Message, StringComparison.Ordinal);
        }
    }

    // Seen once under load (ConfigPublisherTests, Nacos32 + Auto): the gRPC port did not answer ServerCheck at the first
    // call, the publisher chose HTTP for its life, and on 3.2 every publish failed. It probes again, backing off, and
    // moves to gRPC once the port answers: publish, compare-and-set and watch then work over gRPC.
    [Fact]
    public async Task Auto_on_3_2_whose_grpc_did_not_answer_at_first_use_moves_to_grpc_once_it_answers()
    {
        using var timeout = TestSupport.Timeout();
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos32 });
        nacos.Faults.RejectGrpcConnections(TimeSpan.FromMinutes(10));
        nacos.PublishConfig("state.json", "GRAY", "{\"step\":0}", type: "json");
        var publisher = Publisher(Options(nacos, NacosTransport.Auto), TimeProvider.System);
        var held = await publisher.GetAsync("state.json", "GRAY", timeout.Token);
        Assert.Equal("HTTP (v3 client API, polling)", publisher.Transport!.Name);

        nacos.Faults.RejectGrpcConnections(TimeSpan.Zero);
        await Eventually.WaitUntilAsync(
            async () =>
            {
                try
                {
                    return await publisher.PublishAsync("state.json", "GRAY", "{\"step\":1}", held!.Md5, "json", timeout.Token);
                }
                catch (NacosException)
                {
                    return false;
                }
            },
            "a compare-and-set publish succeeds once the 3.2 server's gRPC port answers");
        Assert.Equal("gRPC", publisher.Transport!.Name);
        Assert.Equal("{\"step\":1}", nacos.GetConfig("state.json", "GRAY"));
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.ConfigTransportChosen && r.Message.Contains("config publisher", StringComparison.Ordinal) && r.Message.Contains("now answers ServerCheck", StringComparison.Ordinal));

        Assert.False(await publisher.PublishAsync("state.json", "GRAY", "{\"step\":2}", held!.Md5, "json", timeout.Token));
        Assert.True(await publisher.PublishAsync("lease.json", "GRAY", "{\"term\":1}", cancellationToken: timeout.Token));
        Assert.Equal("{\"term\":1}", nacos.GetConfig("lease.json", "GRAY"));

        var current = await publisher.GetAsync("state.json", "GRAY", timeout.Token);
        var watch = publisher.WaitForChangeAsync("state.json", "GRAY", current!.Md5, timeout.Token);
        nacos.PublishConfig("state.json", "GRAY", "{\"step\":3}", type: "json");
        await watch;
        Assert.Equal("gRPC", publisher.Transport!.Name);
    }

    // The flaky ConfigPublisherTests case itself: ServerCheck only slow at the first call (a read chose HTTP), the port
    // answering by the first publish. That publish probes at once, whatever the back-off, and is sent over gRPC.
    [Fact]
    public async Task Auto_on_3_2_the_first_publish_finding_no_v1_probes_the_grpc_port_at_once_and_publishes_there()
    {
        using var timeout = TestSupport.Timeout();
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos32 });
        nacos.Faults.RejectGrpcConnections(TimeSpan.FromMinutes(10));
        var publisher = Publisher(Options(nacos, NacosTransport.Auto), TimeProvider.System);
        publisher.FirstReprobeDelay = TimeSpan.FromHours(1);
        Assert.Null(await publisher.GetAsync("lease.json", "GRAY", timeout.Token));
        Assert.Equal("HTTP (v3 client API, polling)", publisher.Transport!.Name);

        nacos.Faults.RejectGrpcConnections(TimeSpan.Zero);
        Assert.True(await publisher.PublishAsync("lease.json", "GRAY", "{\"term\":1}", casMd5: NacosConfigKey.Md5(string.Empty), type: "json", cancellationToken: timeout.Token));
        Assert.Equal("gRPC", publisher.Transport!.Name);
        Assert.Equal("{\"term\":1}", nacos.GetConfig("lease.json", "GRAY"));
    }

    // nacos:Transport = Http on 3.2: the same, with the advice for that setting.
    [Fact]
    public async Task Http_on_3_2_a_publish_fails_saying_the_v3_client_api_has_none()
    {
        using var timeout = TestSupport.Timeout();
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos32 });
        var publisher = Publisher(Options(nacos, NacosTransport.Http), TimeProvider.System);

        var error = await Assert.ThrowsAnyAsync<NacosException>(() => publisher.PublishAsync("state.json", "GRAY", "{}", cancellationToken: timeout.Token));
        Assert.Contains("v3 client API has no publish", error.Message, StringComparison.Ordinal);
        Assert.Contains("nacos:Transport = Grpc", error.Message, StringComparison.Ordinal);
        Assert.Null(nacos.GetConfig("state.json", "GRAY"));
    }

    // A v1 answer may come from a 1.x server, which has no gRPC: the publisher stops probing (as the provider does).
    [Fact]
    public async Task Auto_on_1_4_stays_on_http_and_stops_probing_once_the_v1_api_answers()
    {
        using var timeout = TestSupport.Timeout();
        var nacos = await StartNacosAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos14 });
        var publisher = Publisher(Options(nacos, NacosTransport.Auto), TimeProvider.System);
        publisher.FirstReprobeDelay = TimeSpan.Zero;

        Assert.Null(await publisher.GetAsync("lease.json", "GRAY", timeout.Token));
        Assert.True(await publisher.PublishAsync("lease.json", "GRAY", "{\"term\":1}", casMd5: NacosConfigKey.Md5(string.Empty), type: "json", cancellationToken: timeout.Token));
        Assert.Equal("{\"term\":1}", (await publisher.GetAsync("lease.json", "GRAY", timeout.Token))!.Content);

        Assert.Equal("HTTP long polling", publisher.Transport!.Name);
        Assert.DoesNotContain(_logs.GetSnapshot(), r => r.Id.Id is EventIds.PublisherReprobeMissed or EventIds.PublisherReprobeFailed);
    }

    private async Task<NacosEmulator> StartNacosAsync(NacosEmulatorOptions emulatorOptions)
    {
        var nacos = await NacosEmulator.StartAsync(emulatorOptions);
        _disposables.Add(nacos);
        return nacos;
    }

    private static NacosOptions Options(NacosEmulator nacos, NacosTransport transport)
    {
        var options = TestSupport.Options(nacos);
        options.Transport = transport;
        options.GrpcPort = nacos.GrpcPort;
        return options;
    }

    private NacosConfigPublisher Publisher(NacosOptions options, TimeProvider time, HttpMessageHandler? handler = null)
    {
        var loggers = new LoggerFactory([new FakeLoggerProvider(_logs)]);

        // The HTTP client keeps the real clock: its request timeouts run on its clock, and the v3 test advances the
        // publisher's clock by whole poll intervals while a read may be in flight.
        var http = new NacosHttpClient(options, TimeProvider.System, loggers.CreateLogger("GrayRelease.Nacos.Http"), handler);
        var publisher = new NacosConfigPublisher(options, http, time, loggers);
        _disposables.Add(new DisposeAction(() =>
        {
            http.Dispose();
            loggers.Dispose();
        }));
        _disposables.Add(publisher);
        return publisher;
    }

    private sealed class DisposeAction(Action action) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            action();
            return ValueTask.CompletedTask;
        }
    }
}
