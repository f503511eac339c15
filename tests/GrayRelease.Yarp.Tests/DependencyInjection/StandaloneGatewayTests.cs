using GrayRelease.Yarp.Tests.EndToEnd;
using GrayRelease.Yarp.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrayRelease.Yarp.Tests.DependencyInjection;

/// <summary>
/// A gateway that calls only <c>AddReverseProxy().AddGrayRelease()</c> (no <c>AddGrayRelease()</c> on the host builder):
/// the core options are bound and validated, instances come from configuration, decisions route by version.
/// </summary>
public sealed class StandaloneGatewayTests(BackendsFixture backends) : IClassFixture<BackendsFixture>, IDisposable
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));

    private CancellationToken Token => _timeout.Token;

    [Fact]
    public async Task Gateway_with_only_the_proxy_entry_point_decides_and_routes_by_version()
    {
        await using var gateway = await StartAsync(Settings(), proxy => proxy.UseGrayRouting());

        for (var i = 0; i < 4; i++)
        {
            var gray = Reply.Parse(await GetAsync(gateway, ("gray", "gray-996")));
            Assert.Equal(("v2", "GRAY"), (gray.Version, gray.Gray));
            var prod = Reply.Parse(await GetAsync(gateway));
            Assert.Equal(("v1", "PROD"), (prod.Version, prod.Gray));
        }
    }

    [Fact]
    public async Task Obsolete_UseGrayRelease_alias_still_builds_the_gray_pipeline()
    {
        // Kept on purpose: the alias must go on forwarding to UseGrayRouting() for applications written before the rename.
#pragma warning disable CS0618
        await using var gateway = await StartAsync(Settings(), proxy => proxy.UseGrayRelease());
#pragma warning restore CS0618

        var gray = Reply.Parse(await GetAsync(gateway, ("gray", "gray-996")));
        Assert.Equal(("v2", "GRAY"), (gray.Version, gray.Gray));
    }

    [Fact]
    public async Task Invalid_core_options_with_only_the_proxy_entry_point_stop_the_start_naming_the_key()
    {
        var settings = Settings();
        settings["GrayRelease:NoInstancePolicy"] = "42";

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(settings, proxy => proxy.UseGrayRouting()));

        Assert.Contains("GrayRelease:NoInstancePolicy", error.Message, StringComparison.Ordinal);
        Assert.Contains("42", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Calling_the_gateway_and_core_entry_points_twice_registers_nothing_twice()
    {
        var configuration = new ConfigurationBuilder().Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging();
        var proxy = services.AddReverseProxy();
        proxy.AddGrayRelease();
        services.AddGrayRelease(configuration);
        var once = services.Count;

        proxy.AddGrayRelease();
        services.AddGrayRelease(configuration);

        Assert.Equal(once, services.Count);
        using var provider = services.BuildServiceProvider();
        Assert.Single(provider.GetServices<IConfigureOptions<GrayReleaseOptions>>());
        Assert.Single(provider.GetServices<IValidateOptions<GrayReleaseOptions>>());
    }

    public void Dispose() => _timeout.Dispose();

    private Dictionary<string, string?> Settings()
    {
        var config = new GatewayConfig()
            .Set("GrayRelease:Instances:order-app:0:Address", backends.V1a.Address.ToString())
            .Set("GrayRelease:Instances:order-app:0:Version", "v1")
            .Set("GrayRelease:Instances:order-app:1:Address", backends.V2a.Address.ToString())
            .Set("GrayRelease:Instances:order-app:1:Version", "v2")
            .Cluster("orders")
            .RegistryDestination("orders", "order-app");
        return config.Values;
    }

    private async Task<(int Status, string Body)> GetAsync(Gateway gateway, params (string Name, string Value)[] headers)
    {
        using var client = new HttpClient { BaseAddress = gateway.Address, Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/orders/1");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await client.SendAsync(request, Token);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(Token));
    }

    private async Task<Gateway> StartAsync(Dictionary<string, string?> settings, Action<IReverseProxyApplicationBuilder> pipeline)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy")).AddGrayRelease();
        var app = builder.Build();
        app.MapReverseProxy(pipeline);
        try
        {
            await app.StartAsync(Token);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new Gateway(app);
    }

    private sealed class Gateway(WebApplication app) : IAsyncDisposable
    {
        public Uri Address { get; } = new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());

        public async ValueTask DisposeAsync()
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await app.StopAsync(cts.Token);
            await app.DisposeAsync();
        }
    }
}
