using System.Net;
using GrayRelease.Grpc.Tests.Infrastructure;
using GrayRelease.Grpc.Tests.Protos;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Grpc.Tests;

/// <summary>
/// One registration for REST and gRPC, end to end over real sockets: user-app serves REST (HTTP/1.1) and gRPC (HTTP/2)
/// on two Kestrel endpoints bound to port 0, registers ONE instance in the Nacos emulator (the REST port, and the gRPC
/// port as <c>gRPC_port</c> metadata), and a client resolving <c>nacos://user-app</c> through Nacos reaches the gRPC
/// endpoint.
/// </summary>
public sealed class GrpcPortRegistrationEndToEndTests : IAsyncLifetime
{
    private NacosEmulator _nacos = null!;

    public async Task InitializeAsync() => _nacos = await NacosEmulator.StartAsync(new NacosEmulatorOptions { PushEnabled = true });

    public async Task DisposeAsync() => await _nacos.DisposeAsync();

    [Fact]
    public async Task A_client_of_nacos_user_app_reaches_the_grpc_endpoint_published_in_the_one_registration()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var state = new EchoState("v1", string.Empty, failing: false);
        var userApp = BuildUserApp(state);
        await using (userApp)
        {
            await userApp.StartAsync(timeout.Token);
            await Eventually.WaitUntilAsync(() => _nacos.GetInstances("user-app").Count == 1, "user-app is registered", TimeSpan.FromSeconds(60), timeout.Token);

            // Which bound port is which is proven by use below: the HTTP/2-only endpoint answers no HTTP/1.1 request, the
            // HTTP/1.1 one no gRPC call (prior-knowledge HTTP/2).
            var instance = Assert.Single(_nacos.GetInstances("user-app"));
            var rest = instance.Port;
            var grpc = int.Parse(instance.Metadata["gRPC_port"], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(BoundPorts(userApp).Order(), new[] { rest, grpc }.Order());
            Assert.Equal("v1", instance.Metadata["version"]);
            state.Port = grpc;

            var client = await StartClientAsync(timeout.Token);
            await using (client)
            {
                var users = client.Services.GetRequiredService<Echo.EchoClient>();
                using (GrayContext.Begin(GrayStatus.Prod))
                {
                    var reply = await users.WhoAsync(new WhoRequest(), deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: timeout.Token);
                    Assert.Equal("v1", reply.Version);
                    Assert.Equal(GrayStatus.Prod.ToWireValue(), reply.Status);
                }

                Assert.Equal(1, state.Calls);

                // The REST endpoint is still what the registration names (HTTP/1.1: the gateway and HttpClients use it).
                using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{rest}"), Timeout = TimeSpan.FromSeconds(30) };
                Assert.Equal("pong", await http.GetStringAsync("/ping", timeout.Token));
            }

            await userApp.StopAsync(CancellationToken.None);
        }
    }

    private WebApplication BuildUserApp(EchoState state)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "user-app" });
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(Settings(register: true));

        // The gRPC endpoint first: the registration must not take the first bound address for the registered port.
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.PublishAsNacosGrpcPort();
            });
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1);
        });
        builder.Services.AddSingleton(state);
        builder.Services.AddGrpc();
        builder.AddGrayRelease().AddNacos();
        var app = builder.Build();
        app.UseGrayRelease();
        app.MapGrpcService<EchoService>();
        app.MapGet("/ping", () => "pong");
        return app;
    }

    private async Task<WebApplication> StartClientAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "order-app" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(Settings(register: false));
        builder.AddGrayRelease().AddNacos();
        builder.Services.AddGrpcClient<Echo.EchoClient>(o => o.Address = new Uri("nacos://user-app")).AddGrayReleaseGrpc();
        var app = builder.Build();
        await app.StartAsync(cancellationToken);
        return app;
    }

    private Dictionary<string, string?> Settings(bool register) => new()
    {
        ["nacos:ServerAddresses:0"] = _nacos.ServerAddress,
        ["nacos:SnapshotPath"] = Path.Combine(Path.GetTempPath(), "grayrelease-grpc-tests", Guid.NewGuid().ToString("N")),
        ["nacos:DrainDelay"] = "00:00:00",
        ["nacos:RegisterEnabled"] = register ? "true" : "false",
        ["GrayRelease:Version"] = "v1",
        ["GrayRelease:ProdVersion"] = "v1",
        ["GrayRelease:GrayVersion"] = "v2",
    };

    private static List<int> BoundPorts(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Select(a => new Uri(a).Port).ToList();
}
