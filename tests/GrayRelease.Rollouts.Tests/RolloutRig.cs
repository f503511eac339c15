using System.Diagnostics;
using System.Text.Json;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Yarp;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace GrayRelease.Rollouts.Tests;

/// <summary>
/// One gateway's rollout services, built as AddGrayReleaseRollout() registers them, without Kestrel: ticks are called
/// by the test, time is the test's clock, traffic is recorded straight into the observer. Nacos is the emulator over
/// real HTTP.
/// </summary>
internal sealed class RolloutRig : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private RolloutRig(ServiceProvider services, IConfigurationRoot configuration, FakeLogCollector logs)
    {
        _services = services;
        Configuration = configuration;
        Logs = logs;
        Engine = services.GetRequiredService<RolloutEngine>();
        Observer = services.GetRequiredService<TrafficObserver>();
    }

    public RolloutEngine Engine { get; }

    public IServiceProvider EngineServices => _services;

    public System.Diagnostics.Metrics.IMeterFactory MeterFactory => _services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();

    public TrafficObserver Observer { get; }

    public IConfigurationRoot Configuration { get; }

    public FakeLogCollector Logs { get; }

    public double GatewayPercentage => _services.GetRequiredService<IOptionsMonitor<GrayGatewayOptions>>().CurrentValue.Percentage;

    public RolloutSnapshot Snapshot => Engine.GetSnapshot();

    public static Dictionary<string, string?> Defaults(NacosEmulator nacos, string transport = "Http") => new()
    {
        ["nacos:ServerAddresses:0"] = nacos.ServerAddress,
        ["nacos:GrpcPort"] = nacos.GrpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["nacos:Transport"] = transport,
        ["nacos:RegisterEnabled"] = "false",
        ["nacos:DefaultTimeOut"] = "3000",
        ["GrayRelease:ProdVersion"] = "V1",
        ["GrayRelease:GrayVersion"] = "V2",
        ["GrayRelease:Gateway:Enabled"] = "true",
        ["GrayRelease:Gateway:Rollout:Enabled"] = "true",
        ["GrayRelease:Gateway:Rollout:Steps:0"] = "10",
        ["GrayRelease:Gateway:Rollout:Steps:1"] = "50",
        ["GrayRelease:Gateway:Rollout:Steps:2"] = "100",
        ["GrayRelease:Gateway:Rollout:Interval"] = "00:00:10",
        ["GrayRelease:Gateway:Rollout:LeaseDuration"] = "00:00:30",
        ["GrayRelease:Gateway:Rollout:MinRequestsPerSide"] = "50",
        ["GrayRelease:Gateway:Rollout:FailureThreshold"] = "2",
    };

    public static RolloutRig Create(NacosEmulator nacos, TimeProvider time, string instanceId, Dictionary<string, string?>? overrides = null)
    {
        var values = Defaults(nacos);
        foreach (var (key, value) in overrides ?? [])
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var logs = new FakeLogCollector();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton(time);
        services.AddLogging(builder => builder.SetMinimumLevel(LogLevel.Debug).AddProvider(new FakeLoggerProvider(logs)));
        services.AddGrayRelease(configuration).AddNacos();
        services.AddReverseProxy().AddGrayRelease().AddGrayReleaseRollout();
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = false, ValidateScopes = true });
        var rig = new RolloutRig(provider, configuration, logs);
        rig.Engine.InstanceId = instanceId;
        return rig;
    }

    public Task TickAsync() => Engine.TickAsync(CancellationToken.None);

    /// <summary>Records <paramref name="requests"/> requests of <paramref name="version"/>, <paramref name="errors"/> of them 5xx.</summary>
    public void Traffic(string version, int requests, int errors = 0, double milliseconds = 10, string service = "svc")
    {
        var series = Observer.GetSeries(new SeriesKey(service, version, string.Empty));
        var ticks = (long)(milliseconds * Stopwatch.Frequency / 1000);
        for (var i = 0; i < requests; i++)
        {
            series.Record(i < errors ? Outcome.ServerError : Outcome.Success, ticks, Stopwatch.GetTimestamp());
        }
    }

    /// <summary>The state dataId as Nacos holds it.</summary>
    public static RolloutStateDocument? State(NacosEmulator nacos, string dataId = "grayrelease-rollout.json") => RolloutTestHost.State(nacos, dataId);

    public static RolloutLeaseDocument? Lease(NacosEmulator nacos) =>
        nacos.GetConfig("grayrelease-rollout-lease.json", "DEFAULT_GROUP") is { } content ? JsonSerializer.Deserialize(content, RolloutJsonContext.Default.RolloutLeaseDocument) : null;

    public async ValueTask DisposeAsync()
    {
        Engine.ReleaseLeaseOnStop = false;
        await _services.DisposeAsync();
    }
}
