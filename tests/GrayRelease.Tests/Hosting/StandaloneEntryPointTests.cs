using GrayRelease.Http;
using GrayRelease.Tests.Infrastructure;
using GrayRelease.Tests.Integration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace GrayRelease.Tests.Hosting;

/// <summary>
/// <c>IHttpClientBuilder.AddGrayRelease()</c> without <c>builder.AddGrayRelease()</c>: bound and validated options,
/// routing and propagation on real Kestrel; and every entry point called twice registers nothing twice.
/// </summary>
public sealed class StandaloneEntryPointTests
{
    private static readonly System.Text.Json.JsonSerializerOptions Json = new(System.Text.Json.JsonSerializerDefaults.Web);

    [Fact]
    public async Task Service_with_only_the_HttpClient_entry_point_routes_by_version_and_propagates_the_tag()
    {
        await using var userV1 = await ChainApps.StartUserAppAsync("V1");
        await using var userV2 = await ChainApps.StartUserAppAsync("V2");
        var settings = ChainApps.InstanceSettings("user-app", [("V1", userV1.Address), ("V2", userV2.Address)]);
        settings["GrayRelease:Version"] = "V1";
        await using var orderApp = await LoopbackApp.StartAsync(
            builder => builder.Services.AddHttpClient("users", http => http.BaseAddress = new Uri("http://user-app")).AddGrayRelease(),
            app =>
            {
                app.UseGrayRelease();
                app.MapGet("/user", async (IHttpClientFactory factory, HttpContext context) =>
                    await factory.CreateClient("users").GetStringAsync(new Uri("/users/1", UriKind.Relative), context.RequestAborted));
            },
            settings);
        using var client = new HttpClient { BaseAddress = orderApp.Address, Timeout = TimeSpan.FromSeconds(30) };

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(("V2", "GRAY"), await GetUserAsync(client, "GRAY"));
            Assert.Equal(("V1", "PROD"), await GetUserAsync(client, "PROD"));
        }
    }

    [Fact]
    public async Task Invalid_options_with_only_the_HttpClient_entry_point_stop_the_start_naming_the_key()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => LoopbackApp.StartAsync(
            builder => builder.Services.AddHttpClient("users").AddGrayRelease(),
            _ => { },
            new Dictionary<string, string?> { ["GrayRelease:HeaderName"] = "not a header" }));

        Assert.Contains("GrayRelease:HeaderName", error.Message, StringComparison.Ordinal);
        Assert.Contains("not a header", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Calling_every_entry_point_twice_registers_nothing_twice()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.AddGrayRelease();
        builder.Services.AddGrayRelease(builder.Configuration);
        var client = builder.Services.AddHttpClient("users");
        client.AddGrayRelease();
        var once = builder.Services.Count;

        builder.AddGrayRelease();
        builder.Services.AddGrayRelease(builder.Configuration);
        client.AddGrayRelease();

        Assert.Equal(once, builder.Services.Count);
        using var host = builder.Build();
        Assert.Single(host.Services.GetServices<IConfigureOptions<GrayReleaseOptions>>());
        Assert.Single(host.Services.GetServices<IOptionsChangeTokenSource<GrayReleaseOptions>>());
        Assert.Single(host.Services.GetServices<IValidateOptions<GrayReleaseOptions>>());
        var handlers = HandlerChain(host.Services, "users");
        Assert.Single(handlers, h => h is GrayPropagationHandler);
        Assert.Single(handlers, h => h is GrayLoadBalancingHandler);
    }

    [Fact]
    public void Section_is_bound_once_from_the_given_configuration_whatever_the_order_of_the_entry_points()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["GrayRelease:ProdVersion"] = "from-container" })
            .Build());
        var given = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["GrayRelease:ProdVersion"] = "V1",
            ["GrayRelease:Instances:user-app:0:Address"] = "http://127.0.0.1:1",
        }).Build();

        services.AddHttpClient("users").AddGrayRelease();
        services.AddGrayRelease(given);
        services.AddHttpClient("orders").AddGrayRelease();

        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        var options = provider.GetRequiredService<IOptionsMonitor<GrayReleaseOptions>>().CurrentValue;
        Assert.Equal("V1", options.ProdVersion);
        Assert.Single(options.Instances["user-app"]);
    }

    [Fact]
    public void Without_any_configuration_the_error_says_where_the_settings_are_read_from()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddHttpClient("users").AddGrayRelease();
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IOptionsMonitor<GrayReleaseOptions>>().CurrentValue);

        Assert.Contains("services.AddGrayRelease(configuration)", error.Message, StringComparison.Ordinal);
    }

    private static async Task<(string Version, string Gray)> GetUserAsync(HttpClient client, string status)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/user");
        request.Headers.Add("gray", status);
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        var user = System.Text.Json.JsonSerializer.Deserialize<UserDto>(body, Json)!;
        return (user.ServedBy.Version, user.GrayHeader ?? string.Empty);
    }

    private static List<HttpMessageHandler> HandlerChain(IServiceProvider services, string name)
    {
        var chain = new List<HttpMessageHandler>();
        HttpMessageHandler? handler = services.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(name);
        while (handler is not null)
        {
            chain.Add(handler);
            handler = (handler as DelegatingHandler)?.InnerHandler;
        }

        return chain;
    }
}
