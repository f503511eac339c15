using GrayRelease.Nacos.Emulator;
using GrayRelease.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Tests.Integration;

/// <summary>An instance started in a lane (<c>GrayRelease:Lane</c>) is registered with that lane as metadata, as its version is.</summary>
public sealed class LaneRegistrationTests : IAsyncLifetime
{
    private NacosEmulator _nacos = null!;

    public async Task InitializeAsync() => _nacos = await NacosEmulator.StartAsync();

    public async Task DisposeAsync() => await _nacos.DisposeAsync();

    [Theory]
    [InlineData("Grpc")]
    [InlineData("Http")]
    public async Task An_instance_started_in_a_lane_registers_the_lane_metadata_beside_the_version(string transport)
    {
        await using var nacos = transport == "Http" ? await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2 }) : null;
        var server = nacos ?? _nacos;
        using var cts = TestSupport.Timeout();
        await using var app = BuildApp(server, transport, new()
        {
            ["GrayRelease:Lane"] = "feature-a",
        });

        await app.StartAsync(cts.Token);
        await Eventually.WaitUntilAsync(() => server.GetInstances("user-app").Count == 1, "the app is registered");

        var metadata = server.GetInstances("user-app").Single().Metadata;
        Assert.Equal("V2", metadata["version"]);
        Assert.Equal("feature-a", metadata["lane"]);
        await app.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task The_lane_is_published_under_the_configured_lane_metadata_key()
    {
        using var cts = TestSupport.Timeout();
        await using var app = BuildApp(_nacos, "Grpc", new()
        {
            ["GrayRelease:Lane"] = "feature-b",
            ["GrayRelease:LaneMetadataKey"] = "sandbox",
        });

        await app.StartAsync(cts.Token);
        await Eventually.WaitUntilAsync(() => _nacos.GetInstances("user-app").Count == 1, "the app is registered");

        var metadata = _nacos.GetInstances("user-app").Single().Metadata;
        Assert.Equal("feature-b", metadata["sandbox"]);
        Assert.False(metadata.ContainsKey("lane"));
        await app.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task An_instance_without_a_lane_registers_no_lane_metadata()
    {
        using var cts = TestSupport.Timeout();
        await using var app = BuildApp(_nacos, "Grpc", []);

        await app.StartAsync(cts.Token);
        await Eventually.WaitUntilAsync(() => _nacos.GetInstances("user-app").Count == 1, "the app is registered");

        Assert.False(_nacos.GetInstances("user-app").Single().Metadata.ContainsKey("lane"));
        await app.StopAsync(CancellationToken.None);
    }

    private static WebApplication BuildApp(NacosEmulator server, string transport, Dictionary<string, string?> extra)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "user-app" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var settings = new Dictionary<string, string?>
        {
            ["nacos:ServerAddresses:0"] = server.ServerAddress,
            ["nacos:SnapshotPath"] = TestSupport.NewSnapshotPath(),
            ["nacos:DrainDelay"] = "00:00:00",
            ["nacos:Transport"] = transport,
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
        return app;
    }
}
