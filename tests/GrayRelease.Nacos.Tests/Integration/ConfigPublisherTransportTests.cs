using GrayRelease.Nacos.Configuration;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Nacos.Http;
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
        await TestSupport.WaitUntilAsync(
            () =>
            {
                clock.Advance(TimeSpan.FromSeconds(5));
                return watch.IsCompleted;
            },
            "the watch polls once the fake clock passes nacos:V3PollInterval");
        await watch;
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
