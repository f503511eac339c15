// A gateway and two versions of a service, wired exactly as the README tells a service team, registering with a
// Nacos emulator; a gray request and a production request must each land on their own version, through the gateway
// and through a gRPC client made with AddGrayReleaseGrpc() (the two versions also serve gRPC, as user-app-grpc).
using Grpc.Core;
using PackageConsumer;
#if NET10_0_OR_GREATER
using System.Net.Http.Json;
using GrayRelease;
using GrayRelease.Nacos.Emulator;
using Microsoft.AspNetCore.Server.Kestrel.Core;

await using var nacos = await NacosEmulator.StartAsync();
var apps = new List<WebApplication>();
try
{
    foreach (var version in new[] { "V1", "V2" })
    {
        apps.Add(await StartAsync(
            ["--GrayRelease:Version=" + version, "--nacos:ServiceName=user-app"],
            builder => builder.AddGrayRelease().AddNacos(),
            app =>
            {
                app.UseGrayRelease();
                app.MapGet("/whoami", () => new { version });
            }));

        // The same version serving gRPC on an HTTP/2-only endpoint (h2c needs one), registered as a service of its own.
        apps.Add(await StartAsync(
            ["--GrayRelease:Version=" + version, "--nacos:ServiceName=user-app-grpc"],
            builder =>
            {
                builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2));
                builder.Services.AddGrpc();
                builder.AddGrayRelease().AddNacos();
            },
            app =>
            {
                app.UseGrayRelease();
                app.MapGrpcService<WhoService>();
            }));
    }

    var gateway = await StartAsync(
        ["--nacos:ServiceName=gateway", "--nacos:RegisterEnabled=false",
         "--GrayRelease:ProdVersion=V1", "--GrayRelease:GrayVersion=V2", "--GrayRelease:Gateway:Enabled=true",
         "--ReverseProxy:Routes:user:ClusterId=user-app", "--ReverseProxy:Routes:user:Match:Path={**rest}",
         "--ReverseProxy:Clusters:user-app:Destinations:nacos:Address=http://user-app",
         "--ReverseProxy:Clusters:user-app:Destinations:nacos:Metadata:GrayRelease.Service=user-app"],
        builder =>
        {
            builder.AddGrayRelease().AddNacos();
            builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy")).AddGrayRelease().AddGrayReleaseRollout();
            builder.Services.AddGrpcClient<Who.WhoClient>(options => options.Address = new Uri("nacos://user-app-grpc")).AddGrayReleaseGrpc();
        },
        app =>
        {
            app.MapReverseProxy(proxy =>
            {
                proxy.UseGrayRouting();
                proxy.UseGrayReleaseObservation();
            });
            app.MapGrayReleaseRollout();
            app.MapGrayReleaseDashboard();
        });
    apps.Add(gateway);

    using var client = new HttpClient { BaseAddress = new Uri(gateway.Urls.First()), Timeout = TimeSpan.FromSeconds(10) };
    var deadline = DateTime.UtcNow.AddSeconds(60);
    while (true)
    {
        try
        {
            var prod = await VersionAsync(client, null);
            var gray = await VersionAsync(client, "gray-996");
            if (prod == "V1" && gray == "V2")
            {
                // The operations page is embedded in the package: it must come out of the packed one too.
                var page = await client.GetStringAsync(new Uri("/_gray/", UriKind.Relative));
                if (!page.Contains("GrayRelease operations", StringComparison.Ordinal))
                {
                    Console.Error.WriteLine("Package consumer: the operations page (/_gray/) is missing from the packed GrayRelease.Rollouts.");
                    return 1;
                }

                var who = gateway.Services.GetRequiredService<Who.WhoClient>();
                var grpcProd = await AskAsync(who, GrayStatus.Prod);
                var grpcGray = await AskAsync(who, GrayStatus.Gray);
                if (grpcProd == "V1" && grpcGray == "V2")
                {
                    Console.WriteLine("Package consumer: PROD → V1, GRAY → V2 through the packed packages, over HTTP and gRPC; operations page served. OK");
                    return 0;
                }

                if (DateTime.UtcNow > deadline)
                {
                    Console.Error.WriteLine($"Package consumer: over gRPC PROD → {grpcProd}, GRAY → {grpcGray}; expected V1 and V2.");
                    return 1;
                }
            }
            else if (DateTime.UtcNow > deadline)
            {
                Console.Error.WriteLine($"Package consumer: PROD → {prod}, GRAY → {gray}; expected V1 and V2.");
                return 1;
            }
        }
        catch (HttpRequestException) when (DateTime.UtcNow < deadline)
        {
            // Registration and discovery are still settling.
        }

        await Task.Delay(200);
    }

    async Task<WebApplication> StartAsync(string[] args, Action<WebApplicationBuilder> configure, Action<WebApplication> map)
    {
        var builder = WebApplication.CreateBuilder([.. args, "--urls=http://127.0.0.1:0", "--nacos:ServerAddresses:0=" + nacos.ServerAddress, "--nacos:DrainDelay=00:00:00", "--nacos:SnapshotPath=" + Path.Combine(Path.GetTempPath(), "grayrelease-consumer", Guid.NewGuid().ToString("N"))]);
        builder.Logging.ClearProviders();
        configure(builder);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return app;
    }
}
finally
{
    foreach (var app in apps)
    {
        await app.DisposeAsync();
    }
}

static async Task<string?> VersionAsync(HttpClient client, string? grayHeader)
{
    using var request = new HttpRequestMessage(HttpMethod.Get, "/whoami");
    if (grayHeader is not null)
    {
        request.Headers.Add("gray", grayHeader);
    }

    using var response = await client.SendAsync(request);
    if (!response.IsSuccessStatusCode)
    {
        return $"HTTP {(int)response.StatusCode}";
    }

    var body = await response.Content.ReadFromJsonAsync<Dictionary<string, string>>();
    return body?["version"];
}

static async Task<string> AskAsync(Who.WhoClient who, GrayStatus status)
{
    using var scope = GrayContext.Begin(status);
    try
    {
        return (await who.AskAsync(new WhoRequest(), deadline: DateTime.UtcNow.AddSeconds(10))).Version;
    }
    catch (RpcException exception)
    {
        // Registration and discovery may still be settling (no instance of the wanted version yet).
        return $"gRPC {exception.StatusCode}";
    }
}
#else
// .NET 8: compile-only check that the public API a service team uses resolves from the packages.
var builder = WebApplication.CreateBuilder(args);
builder.AddGrayRelease().AddNacos();
builder.Services.AddHttpClient("user-app").AddGrayRelease();
builder.Services.AddGrpc();
builder.Services.AddGrpcClient<Who.WhoClient>(options => options.Address = new Uri("nacos://user-app-grpc")).AddGrayReleaseGrpc();
builder.Services.AddReverseProxy().AddGrayRelease().AddGrayReleaseRollout();
var app = builder.Build();
app.UseGrayRelease();
app.MapReverseProxy(proxy => proxy.UseGrayRouting().UseGrayReleaseObservation());
app.MapGrayReleaseRollout();
app.MapGrayReleaseDashboard();
app.MapGrpcService<WhoService>();
return app is null ? 1 : 0;
#endif

/// <summary>Answers with this instance's version (GrayRelease:Version).</summary>
internal sealed class WhoService(IConfiguration configuration) : Who.WhoBase
{
    public override Task<WhoReply> Ask(WhoRequest request, ServerCallContext context) =>
        Task.FromResult(new WhoReply { Version = configuration["GrayRelease:Version"] ?? "none" });
}
