using GrayRelease.Nacos.Discovery;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Nacos.Http;
using GrayRelease.Nacos.Naming;
using Microsoft.Extensions.Logging.Testing;

namespace GrayRelease.Nacos.Tests.Discovery;

/// <summary>Emulators and discovery providers over real HTTP, disposed in reverse order after each test.</summary>
public abstract class DiscoveryProviderTestBase : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _disposables = [];

    /// <summary>Every log line of the providers this test built.</summary>
    protected FakeLogCollector Logs { get; } = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _disposables.Count - 1; i >= 0; i--)
        {
            await _disposables[i].DisposeAsync();
        }
    }

    /// <summary>Disposed with the test, after everything started later.</summary>
    protected T Track<T>(T disposable)
        where T : IAsyncDisposable
    {
        _disposables.Add(disposable);
        return disposable;
    }

    /// <summary>An emulator; by default on the 2 line, since these tests are about the HTTP v1 discovery path.</summary>
    protected async Task<NacosEmulator> StartNacosAsync(NacosEmulatorOptions? options = null) =>
        Track(await NacosEmulator.StartAsync(options ?? new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2 }, CancellationToken.None));

    protected NacosServiceInstanceProvider Provider(NacosOptions options, HttpMessageHandler? handler = null)
    {
        var logger = new FakeLogger<NacosServiceInstanceProvider>(Logs);
        var http = new NacosHttpClient(options, TimeProvider.System, logger, handler);
        var provider = new NacosServiceInstanceProvider(new NacosNamingClient(http, options), http, options, TimeProvider.System, logger);
        Track(provider);
        Track(new DisposeAction(http.Dispose));
        return provider;
    }

    protected static Dictionary<string, string> Version(string version) => new() { ["version"] = version };

    private sealed class DisposeAction(Action action) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            action();
            return ValueTask.CompletedTask;
        }
    }
}
