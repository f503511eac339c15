using System.Net;
using GrayRelease.Nacos.Configuration;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Nacos.Registration;
using GrayRelease.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Tests.Integration;

/// <summary>
/// One registration for REST and gRPC (grpc-spring's convention): the gRPC endpoint's port travels in the instance
/// metadata under <c>gRPC_port</c>, the registered port stays the REST one.
/// </summary>
public sealed class GrpcPortRegistrationTests : IAsyncLifetime
{
    private NacosEmulator _nacos = null!;

    public async Task InitializeAsync() => _nacos = await NacosEmulator.StartAsync();

    public async Task DisposeAsync() => await _nacos.DisposeAsync();

    [Fact]
    public async Task The_bound_port_of_the_marked_grpc_endpoint_is_published_and_the_other_endpoint_is_registered()
    {
        using var cts = TestSupport.Timeout();
        await using var app = BuildApp([], kestrel =>
        {
            // The gRPC endpoint first: Kestrel reports it first, and it must still not become the registered port.
            kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.PublishAsNacosGrpcPort();
            });
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1);
        });

        await app.StartAsync(cts.Token);
        await Eventually.WaitUntilAsync(() => _nacos.GetInstances("user-app").Count == 1, "the app is registered");

        var bound = app.Urls.Select(u => new Uri(u).Port).ToList();
        var instance = _nacos.GetInstances("user-app").Single();
        Assert.Equal(bound[1], instance.Port);
        Assert.Equal(bound[0].ToString(System.Globalization.CultureInfo.InvariantCulture), instance.Metadata["gRPC_port"]);
        Assert.Equal("V2", instance.Metadata["version"]);
        await app.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_configured_instance_grpc_port_is_published_under_the_configured_key()
    {
        using var cts = TestSupport.Timeout();
        await using var app = BuildApp(new() { ["nacos:InstanceGrpcPort"] = "9090", ["nacos:GrpcPortMetadataKey"] = "grpc.port" }, kestrel => kestrel.Listen(IPAddress.Loopback, 0));

        await app.StartAsync(cts.Token);
        await Eventually.WaitUntilAsync(() => _nacos.GetInstances("user-app").Count == 1, "the app is registered");

        var instance = _nacos.GetInstances("user-app").Single();
        Assert.Equal(new Uri(app.Urls.Single()).Port, instance.Port);
        Assert.Equal("9090", instance.Metadata["grpc.port"]);
        Assert.False(instance.Metadata.ContainsKey("gRPC_port"));
        await app.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Without_a_grpc_port_no_grpc_metadata_is_published()
    {
        using var cts = TestSupport.Timeout();
        await using var app = BuildApp([], kestrel => kestrel.Listen(IPAddress.Loopback, 0));

        await app.StartAsync(cts.Token);
        await Eventually.WaitUntilAsync(() => _nacos.GetInstances("user-app").Count == 1, "the app is registered");

        Assert.False(_nacos.GetInstances("user-app").Single().Metadata.ContainsKey("gRPC_port"));
        await app.StopAsync(CancellationToken.None);
    }

    [Fact]
    public void Marking_an_endpoint_without_the_nacos_registration_says_what_to_add()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.PublishAsNacosGrpcPort()));

        // WebApplication's constructor reads the server's features, which configures Kestrel: the mistake shows at Build().
        var exception = Assert.Throws<InvalidOperationException>(() => builder.Build());

        Assert.Contains("AddNacos()", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:9090", "http://127.0.0.1:8080", 8080)]
    [InlineData("http://127.0.0.1:8080", "http://127.0.0.1:9090", 8080)]
    public void The_grpc_port_is_never_taken_for_the_registered_port(string first, string second, int expected)
    {
        var result = HostAddressResolver.Resolve([first, second], new NacosOptions(), () => [IPAddress.Loopback], grpcPort: 9090);

        Assert.Equal(("127.0.0.1", expected), result);
    }

    [Fact]
    public void A_grpc_only_application_registers_its_grpc_endpoint()
    {
        var result = HostAddressResolver.Resolve(["http://127.0.0.1:9090"], new NacosOptions(), () => [IPAddress.Loopback], grpcPort: 9090);

        Assert.Equal(("127.0.0.1", 9090), result);
    }

    [Theory]
    [InlineData(-1, "gRPC_port", "nacos:InstanceGrpcPort")]
    [InlineData(65536, "gRPC_port", "nacos:InstanceGrpcPort")]
    [InlineData(0, "", "nacos:GrpcPortMetadataKey")]
    [InlineData(0, " gRPC_port", "nacos:GrpcPortMetadataKey")]
    public void A_bad_grpc_port_setting_is_refused_naming_the_key(int port, string key, string named)
    {
        var options = new NacosOptions { ServerAddresses = ["http://127.0.0.1:8848"], InstanceGrpcPort = port, GrpcPortMetadataKey = key };

        var result = new NacosOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(named, result.FailureMessage, StringComparison.Ordinal);
    }

    private WebApplication BuildApp(Dictionary<string, string?> extra, Action<KestrelServerOptions> kestrel)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "user-app" });
        builder.WebHost.ConfigureKestrel(kestrel);
        builder.Logging.ClearProviders();
        var settings = new Dictionary<string, string?>
        {
            ["nacos:ServerAddresses:0"] = _nacos.ServerAddress,
            ["nacos:SnapshotPath"] = TestSupport.NewSnapshotPath(),
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
        return app;
    }
}
