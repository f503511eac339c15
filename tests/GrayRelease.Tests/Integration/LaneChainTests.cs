using System.Net;
using System.Net.Http.Json;
using GrayRelease.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GrayRelease.Tests.Integration;

/// <summary>
/// Lanes on real Kestrel: order-app (baseline only) calls user-app (a baseline V1, a baseline V2 and one instance in lane
/// feature-a); the test is the first hop. Lane feature-b is strict in order-app.
/// </summary>
public sealed class LaneChainTests : IAsyncLifetime
{
    private readonly List<LoopbackApp> _apps = [];
    private ServiceProvider _caller = null!;
    private int _userBaselineV1;
    private int _userBaselineV2;
    private int _userLaneA;
    private int _order;

    public async Task InitializeAsync()
    {
        var userV1 = await ChainApps.StartUserAppAsync("V1");
        var userV2 = await ChainApps.StartUserAppAsync("V2");
        var userLaneA = await ChainApps.StartUserAppAsync("V1");
        _apps.AddRange([userV1, userV2, userLaneA]);
        (_userBaselineV1, _userBaselineV2, _userLaneA) = (userV1.Port, userV2.Port, userLaneA.Port);

        var settings = new Dictionary<string, string?>
        {
            ["GrayRelease:Version"] = "V1",
            ["GrayRelease:ProdVersion"] = "V1",
            ["GrayRelease:GrayVersion"] = "V2",
            ["GrayRelease:Lanes:feature-b:Mode"] = "Strict",
            ["GrayRelease:Instances:user-app:0:Address"] = userV1.Address.GetLeftPart(UriPartial.Authority),
            ["GrayRelease:Instances:user-app:0:Version"] = "V1",
            ["GrayRelease:Instances:user-app:1:Address"] = userV2.Address.GetLeftPart(UriPartial.Authority),
            ["GrayRelease:Instances:user-app:1:Version"] = "V2",
            ["GrayRelease:Instances:user-app:2:Address"] = userLaneA.Address.GetLeftPart(UriPartial.Authority),
            ["GrayRelease:Instances:user-app:2:Version"] = "V1",
            ["GrayRelease:Instances:user-app:2:Metadata:lane"] = "feature-a",
        };
        var order = await LoopbackApp.StartAsync(
            builder =>
            {
                builder.Services.AddGrayRelease(builder.Configuration);
                builder.Services.AddHttpClient("users", http => http.BaseAddress = new Uri("http://user-app")).AddGrayRelease();
            },
            app =>
            {
                app.UseGrayRelease();
                app.MapGet("/orders/{id:int}", async (int id, HttpContext context, IHttpClientFactory clients) =>
                {
                    var user = await clients.CreateClient("users").GetFromJsonAsync<UserDto>($"/users/{id}", context.RequestAborted);
                    return new OrderDto(id, new ServedBy("order-app", "V1", context.Connection.LocalPort), user!);
                });
            },
            settings);
        _apps.Add(order);
        _order = order.Port;

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["GrayRelease:Instances:order-app:0:Address"] = order.Address.GetLeftPart(UriPartial.Authority),
            ["GrayRelease:Instances:order-app:0:Version"] = "V1",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddGrayRelease(configuration);
        services.AddHttpClient("caller").AddGrayRelease();
        _caller = services.BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _caller.DisposeAsync();
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_lane_request_falls_back_to_the_baseline_where_the_lane_has_no_instance_and_re_enters_it_on_the_next_hop()
    {
        for (var i = 0; i < 4; i++)
        {
            var (status, body) = await CallAsync(GrayStatus.Prod, "feature-a");
            Assert.Equal(HttpStatusCode.OK, status);
            var order = System.Text.Json.JsonSerializer.Deserialize<OrderDto>(body, Json)!;
            Assert.Equal(_order, order.ServedBy.Port);
            Assert.Equal(_userLaneA, order.User.ServedBy.Port);
        }
    }

    [Theory]
    [InlineData(GrayStatus.Prod)]
    [InlineData(GrayStatus.Gray)]
    [InlineData(GrayStatus.All)]
    [InlineData(null)]
    public async Task A_request_without_a_lane_never_reaches_the_lane_instance(GrayStatus? status)
    {
        for (var i = 0; i < 6; i++)
        {
            var (code, body) = await CallAsync(status, null);
            Assert.Equal(HttpStatusCode.OK, code);
            var order = System.Text.Json.JsonSerializer.Deserialize<OrderDto>(body, Json)!;
            Assert.Contains(order.User.ServedBy.Port, new[] { _userBaselineV1, _userBaselineV2 });
        }
    }

    [Fact]
    public async Task A_strict_lane_without_an_instance_gets_503_naming_service_and_lane_and_what_exists()
    {
        var (status, body) = await CallAsync(GrayStatus.Gray, "feature-b");

        Assert.True(status == HttpStatusCode.ServiceUnavailable, body);
        using var problem = System.Text.Json.JsonDocument.Parse(body);
        var detail = problem.RootElement.GetProperty("detail").GetString();
        Assert.True(detail?.Contains("'user-app' in strict lane 'feature-b'", StringComparison.Ordinal), detail);
        Assert.Contains("lanes with instances: feature-a", detail, StringComparison.Ordinal);
    }

    private static readonly System.Text.Json.JsonSerializerOptions Json = new(System.Text.Json.JsonSerializerDefaults.Web);

    private async Task<(HttpStatusCode Status, string Body)> CallAsync(GrayStatus? status, string? lane)
    {
        var client = _caller.GetRequiredService<IHttpClientFactory>().CreateClient("caller");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using (status is { } s ? GrayContext.Begin(s) : GrayContext.Suppress())
        using (lane is null ? (IDisposable?)null : GrayContext.BeginLane(lane))
        {
            using var response = await client.GetAsync(new Uri("http://order-app/orders/1"), timeout.Token);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(timeout.Token));
        }
    }
}
