using GrayRelease.Nacos.Configuration;
using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace GrayRelease.Nacos.Tests.Integration;

public sealed class ConfigurationIntegrationTests : IAsyncLifetime
{
    private readonly FakeLogCollector _logs = new();
    private readonly List<IDisposable> _roots = [];
    private NacosEmulator _nacos = null!;

    public async Task InitializeAsync() => _nacos = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2 });

    public async Task DisposeAsync()
    {
        foreach (var root in _roots)
        {
            root.Dispose();
        }

        await _nacos.DisposeAsync();
    }

    private NacosOptions Options(params NacosListenerOptions[] listeners)
    {
        var options = TestSupport.Options(_nacos);
        options.Listeners = [.. listeners];
        options.ListenInterval = 100;
        return options;
    }

    private IConfigurationRoot Build(NacosOptions options)
    {
        var root = new ConfigurationBuilder()
            .AddNacosConfiguration(source =>
            {
                source.Options = options;
                source.LoggerFactory = new LoggerFactory([new FakeLoggerProvider(_logs)]);
            })
            .Build();
        _roots.Add((IDisposable)root);
        return root;
    }

    private static IOptionsMonitor<GrayReleaseOptions> Monitor(IConfiguration configuration)
    {
        var services = new ServiceCollection();
        services.Configure<GrayReleaseOptions>(configuration.GetSection(GrayReleaseOptions.SectionName));
        return services.BuildServiceProvider().GetRequiredService<IOptionsMonitor<GrayReleaseOptions>>();
    }

    private static async Task<GrayReleaseOptions> NextChangeAsync(IOptionsMonitor<GrayReleaseOptions> monitor, Func<GrayReleaseOptions, bool> isExpected, Action change)
    {
        var changed = new TaskCompletionSource<GrayReleaseOptions>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = monitor.OnChange(o =>
        {
            if (isExpected(o))
            {
                changed.TrySetResult(o);
            }
        });
        change();
        return await TestSupport.WithTimeout(changed.Task, "IOptionsMonitor to see the change");
    }

    [Theory]
    [InlineData("common.yaml", "GrayRelease:\n  ProdVersion: V1\n  GrayVersion: V2\n", "GrayRelease:\n  ProdVersion: V1\n  GrayVersion: V3\n")]
    [InlineData("common.json", """{"GrayRelease":{"ProdVersion":"V1","GrayVersion":"V2"}}""", """{"GrayRelease":{"ProdVersion":"V1","GrayVersion":"V3"}}""")]
    [InlineData("common.properties", "GrayRelease.ProdVersion=V1\nGrayRelease.GrayVersion=V2\n", "GrayRelease.ProdVersion=V1\nGrayRelease.GrayVersion=V3\n")]
    public async Task A_published_change_reaches_IOptionsMonitor_live(string dataId, string initial, string updated)
    {
        _nacos.PublishConfig(dataId, "DEFAULT_GROUP", initial);
        var configuration = Build(Options(new NacosListenerOptions { DataId = dataId }));
        var monitor = Monitor(configuration);
        Assert.Equal(("V1", "V2"), (monitor.CurrentValue.ProdVersion, monitor.CurrentValue.GrayVersion));

        var changed = await NextChangeAsync(monitor, o => o.GrayVersion == "V3", () => _nacos.PublishConfig(dataId, "DEFAULT_GROUP", updated));

        Assert.Equal("V1", changed.ProdVersion);
        Assert.Equal("V3", configuration["GrayRelease:GrayVersion"]);
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.ConfigChanged);
    }

    [Fact]
    public async Task Later_data_ids_override_earlier_ones_and_namespaces_are_honoured()
    {
        _nacos.PublishConfig("common.yaml", "DEFAULT_GROUP", "GrayRelease:\n  ProdVersion: V1\n  GrayVersion: V2\n", tenant: "dev");
        _nacos.PublishConfig("order-app.json", "APPS", """{"GrayRelease":{"GrayVersion":"V9"}}""", tenant: "dev");
        var options = Options(new NacosListenerOptions { DataId = "common.yaml" }, new NacosListenerOptions { DataId = "order-app.json", Group = "APPS" });
        options.Namespace = "dev";

        var configuration = Build(options);

        Assert.Equal("V1", configuration["GrayRelease:ProdVersion"]);
        Assert.Equal("V9", configuration["GrayRelease:GrayVersion"]);
        var monitor = Monitor(configuration);
        await NextChangeAsync(monitor, o => o.ProdVersion == "V5", () => _nacos.PublishConfig("common.yaml", "DEFAULT_GROUP", "GrayRelease:\n  ProdVersion: V5\n", tenant: "dev"));
        Assert.Equal("V9", configuration["GrayRelease:GrayVersion"]);
    }

    [Fact]
    public void A_missing_required_data_id_stops_start_up_with_a_clear_error()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Build(Options(new NacosListenerOptions { DataId = "missing.yaml", Group = "MY_GROUP" })));

        Assert.Contains("missing.yaml", error.Message, StringComparison.Ordinal);
        Assert.Contains("MY_GROUP", error.Message, StringComparison.Ordinal);
        Assert.Contains("namespace 'public'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Optional", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_optional_data_id_is_empty_and_appears_when_published()
    {
        var configuration = Build(Options(new NacosListenerOptions { DataId = "later.yaml", Optional = true }));
        Assert.Null(configuration["GrayRelease:ProdVersion"]);

        var monitor = Monitor(configuration);
        var changed = await NextChangeAsync(monitor, o => o.ProdVersion == "V7", () => _nacos.PublishConfig("later.yaml", "DEFAULT_GROUP", "GrayRelease:\n  ProdVersion: V7\n"));

        Assert.Equal("V7", changed.ProdVersion);
    }

    [Fact]
    public async Task A_malformed_update_is_logged_and_the_previous_values_stay()
    {
        _nacos.PublishConfig("common.yaml", "DEFAULT_GROUP", "GrayRelease:\n  ProdVersion: V1\n");
        var configuration = Build(Options(new NacosListenerOptions { DataId = "common.yaml" }));
        var monitor = Monitor(configuration);

        _nacos.PublishConfig("common.yaml", "DEFAULT_GROUP", "GrayRelease:\n  ProdVersion: [V2\n");
        await Eventually.WaitUntilAsync(() => _logs.GetSnapshot().Any(r => r.Id.Id == EventIds.ConfigMalformed), "the malformed update is logged");

        Assert.Equal("V1", configuration["GrayRelease:ProdVersion"]);
        var record = _logs.GetSnapshot().First(r => r.Id.Id == EventIds.ConfigMalformed);
        Assert.Equal(LogLevel.Error, record.Level);
        Assert.Contains("common.yaml", record.Message, StringComparison.Ordinal);
        Assert.Contains("keeping the previous values", record.Message, StringComparison.Ordinal);

        var fixedUp = await NextChangeAsync(monitor, o => o.ProdVersion == "V3", () => _nacos.PublishConfig("common.yaml", "DEFAULT_GROUP", "GrayRelease:\n  ProdVersion: V3\n"));
        Assert.Equal("V3", fixedUp.ProdVersion);
    }

    [Fact]
    public async Task With_nacos_down_the_last_values_stay_and_listening_resumes_when_it_is_back()
    {
        _nacos.PublishConfig("common.yaml", "DEFAULT_GROUP", "GrayRelease:\n  ProdVersion: V1\n");
        var configuration = Build(Options(new NacosListenerOptions { DataId = "common.yaml" }));
        var monitor = Monitor(configuration);

        await _nacos.StopAsync();
        await Eventually.WaitUntilAsync(() => _logs.GetSnapshot().Any(r => r.Id.Id == EventIds.ListenFailed), "the failing listener is logged");
        Assert.Equal("V1", configuration["GrayRelease:ProdVersion"]);

        var changed = await NextChangeAsync(monitor, o => o.ProdVersion == "V4", () =>
        {
            _nacos.RestartAsync().GetAwaiter().GetResult();
            _nacos.PublishConfig("common.yaml", "DEFAULT_GROUP", "GrayRelease:\n  ProdVersion: V4\n");
        });
        Assert.Equal("V4", changed.ProdVersion);
    }

    [Fact]
    public async Task With_nacos_down_at_start_up_the_config_snapshot_serves()
    {
        _nacos.PublishConfig("common.yaml", "DEFAULT_GROUP", "GrayRelease:\n  ProdVersion: V1\n");
        var options = Options(new NacosListenerOptions { DataId = "common.yaml" });
        Build(options);
        await _nacos.StopAsync();

        var configuration = Build(options);

        Assert.Equal("V1", configuration["GrayRelease:ProdVersion"]);
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.ConfigFromSnapshot);
    }

    [Fact]
    public void Disposing_the_configuration_stops_the_long_poll()
    {
        _nacos.PublishConfig("common.yaml", "DEFAULT_GROUP", "a: 1\n");
        var root = Build(Options(new NacosListenerOptions { DataId = "common.yaml" }));
        var provider = root.Providers.OfType<NacosConfigurationProvider>().Single();
        var loop = provider.ListenLoop!;
        Assert.False(loop.IsCompleted);

        ((IDisposable)root).Dispose();

        Assert.True(loop.IsCompleted, "the long-poll loop ends on dispose");
    }
}
