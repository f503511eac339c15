using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GrayRelease.Discovery;
using GrayRelease.Grpc.Tests.Infrastructure;
using GrayRelease.Grpc.Tests.Protos;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Grpc.Tests;

/// <summary>
/// A request whose gRPC call found no instance of the wanted version is answered 503 by <c>UseGrayRelease()</c>, with
/// the problem the REST path gets, and without the application catching anything; an UNAVAILABLE the server sent itself
/// stays an error of the application (500).
/// </summary>
public sealed class GrpcNoInstanceProblemTests
{
    private const string Service = "user-app";

    [Fact]
    public async Task A_gray_request_whose_grpc_call_finds_no_v2_instance_is_answered_503_with_the_no_instance_problem()
    {
        await using var v1 = await EchoServer.StartAsync("v1");
        var provider = new TestInstanceProvider();
        provider.Set(Service, v1.Instance());
        await using var front = await Front.StartAsync(provider);

        using var response = await front.GetAsync(GrayStatus.Gray);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(503, problem.GetProperty("status").GetInt32());
        Assert.Equal(Service, problem.GetProperty("service").GetString());
        Assert.Equal("v2", problem.GetProperty("wantedVersion").GetString());
        Assert.Equal(["v1"], problem.GetProperty("availableVersions").EnumerateArray().Select(v => v.GetString()));
        Assert.Contains("v2", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, v1.Calls);
    }

    [Fact]
    public async Task An_unavailable_answered_by_the_server_itself_is_not_turned_into_the_no_instance_503()
    {
        await using var v2 = await EchoServer.StartAsync("v2", failing: true);
        var provider = new TestInstanceProvider();
        provider.Set(Service, v2.Instance());
        await using var front = await Front.StartAsync(provider);

        using var response = await front.GetAsync(GrayStatus.Gray);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(1, v2.Calls);
    }

    [Fact]
    public async Task A_call_that_found_its_instance_is_answered_as_usual()
    {
        await using var v2 = await EchoServer.StartAsync("v2");
        var provider = new TestInstanceProvider();
        provider.Set(Service, v2.Instance());
        await using var front = await Front.StartAsync(provider);

        using var response = await front.GetAsync(GrayStatus.Gray);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("v2", await response.Content.ReadAsStringAsync());
    }

    /// <summary>An HTTP/1.1 service (real Kestrel, 127.0.0.1, free port) whose endpoint calls user-app over gray gRPC.</summary>
    private sealed class Front : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly HttpClient _http;

        private Front(WebApplication app, Uri address)
        {
            _app = app;
            _http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        }

        public static async Task<Front> StartAsync(IServiceInstanceProvider provider)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["GrayRelease:ProdVersion"] = "v1",
                ["GrayRelease:GrayVersion"] = "v2",
            });
            builder.AddGrayRelease();
            builder.Services.AddSingleton(provider);
            builder.Services.AddGrpcClient<Echo.EchoClient>(o => o.Address = new Uri($"nacos://{Service}")).AddGrayReleaseGrpc();
            var app = builder.Build();
            app.UseGrayRelease();

            // No try/catch: the application does not map the gRPC failure itself.
            app.MapGet("/who", async (Echo.EchoClient users, HttpContext context) =>
                (await users.WhoAsync(new WhoRequest(), deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: context.RequestAborted)).Version);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await app.StartAsync(timeout.Token);
            var address = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
            return new Front(app, address);
        }

        public Task<HttpResponseMessage> GetAsync(GrayStatus status)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/who");
            request.Headers.Add("gray", status.ToWireValue());
            return _http.SendAsync(request);
        }

        public async ValueTask DisposeAsync()
        {
            _http.Dispose();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _app.StopAsync(timeout.Token);
            await _app.DisposeAsync();
        }
    }
}
