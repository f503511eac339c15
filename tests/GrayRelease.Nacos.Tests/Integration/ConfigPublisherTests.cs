using GrayRelease.Nacos.Configuration;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Nacos.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace GrayRelease.Nacos.Tests.Integration;

/// <summary>INacosConfigPublisher over each transport against the emulator: plain and compare-and-set publish, read, watch.</summary>
public sealed class ConfigPublisherTests : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _disposables = [];

    public static TheoryData<NacosServerLine, NacosTransport> Transports => new()
    {
        { NacosServerLine.Nacos2, NacosTransport.Http },
        { NacosServerLine.Nacos2, NacosTransport.Grpc },
        { NacosServerLine.Nacos32, NacosTransport.Grpc },
        { NacosServerLine.Nacos32, NacosTransport.Auto },
    };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _disposables.Count - 1; i >= 0; i--)
        {
            await _disposables[i].DisposeAsync();
        }
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Publish_with_the_md5_read_wins_and_a_stale_md5_loses(NacosServerLine line, NacosTransport transport)
    {
        using var timeout = TestSupport.Timeout();
        var (nacos, publisher) = await StartAsync(line, transport);

        Assert.Null(await publisher.GetAsync("lease.json", "GRAY", timeout.Token));
        Assert.True(await publisher.PublishAsync("lease.json", "GRAY", "{\"term\":1}", casMd5: NacosConfigKey.Md5(string.Empty), type: "json", cancellationToken: timeout.Token));
        var first = await publisher.GetAsync("lease.json", "GRAY", timeout.Token);
        Assert.Equal("{\"term\":1}", first!.Content);

        Assert.True(await publisher.PublishAsync("lease.json", "GRAY", "{\"term\":2}", first.Md5, "json", timeout.Token));
        Assert.False(await publisher.PublishAsync("lease.json", "GRAY", "{\"term\":3}", first.Md5, "json", timeout.Token));

        Assert.Equal("{\"term\":2}", nacos.GetConfig("lease.json", "GRAY"));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_watch_returns_when_the_config_changes(NacosServerLine line, NacosTransport transport)
    {
        using var timeout = TestSupport.Timeout();
        var (nacos, publisher) = await StartAsync(line, transport);
        nacos.PublishConfig("state.json", "GRAY", "{\"step\":0}", type: "json");
        var held = await publisher.GetAsync("state.json", "GRAY", timeout.Token);

        var watch = publisher.WaitForChangeAsync("state.json", "GRAY", held!.Md5, timeout.Token);
        nacos.PublishConfig("state.json", "GRAY", "{\"step\":1}", type: "json");
        await watch;

        Assert.Equal("{\"step\":1}", (await publisher.GetAsync("state.json", "GRAY", timeout.Token))!.Content);
    }

    private async Task<(NacosEmulator Nacos, NacosConfigPublisher Publisher)> StartAsync(NacosServerLine line, NacosTransport transport)
    {
        var nacos = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = line });
        _disposables.Add(nacos);
        var options = TestSupport.Options(nacos);
        options.Transport = transport;
        options.GrpcPort = nacos.GrpcPort;
        var http = new NacosHttpClient(options, TimeProvider.System, NullLogger.Instance);
        var publisher = new NacosConfigPublisher(options, http, TimeProvider.System, NullLoggerFactory.Instance);
        _disposables.Add(publisher);
        _disposables.Add(new DisposeAction(http.Dispose));
        return (nacos, publisher);
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
