using GrayRelease.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GrayRelease.Tests.Propagation;

public sealed class PropagationOptionsTests
{
    private static GrayReleaseOptions Resolve(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddGrayRelease(configuration);
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<GrayReleaseOptions>>().Value;
    }

    [Fact]
    public void Propagation_defaults_to_the_headers_with_the_documented_baggage_keys()
    {
        var options = Resolve([]);

        Assert.Equal(GrayPropagation.Header, options.Propagation);
        Assert.Equal("gray.status", options.BaggageStatusKey);
        Assert.Equal("gray.lane", options.BaggageLaneKey);
    }

    [Fact]
    public void Propagation_and_baggage_keys_bind_from_the_GrayRelease_section()
    {
        var options = Resolve(new()
        {
            ["GrayRelease:Propagation"] = "Both",
            ["GrayRelease:BaggageStatusKey"] = "sandbox.status",
            ["GrayRelease:BaggageLaneKey"] = "sd-routing-key",
        });

        Assert.Equal((GrayPropagation.Both, "sandbox.status", "sd-routing-key"), (options.Propagation, options.BaggageStatusKey, options.BaggageLaneKey));
    }

    [Theory]
    [InlineData("GrayRelease:BaggageStatusKey", "gray status", "GrayRelease:BaggageStatusKey")]
    [InlineData("GrayRelease:BaggageStatusKey", "", "GrayRelease:BaggageStatusKey")]
    [InlineData("GrayRelease:BaggageLaneKey", "gray=lane", "GrayRelease:BaggageLaneKey")]
    [InlineData("GrayRelease:BaggageLaneKey", "gray.status", "GrayRelease:BaggageLaneKey")]
    public void A_baggage_key_that_is_no_W3C_key_fails_at_start_up_naming_the_key_and_value(string key, string value, string expectedKey)
    {
        var exception = Assert.Throws<OptionsValidationException>(() => Resolve(new() { [key] = value }));

        Assert.Contains(expectedKey, exception.Message, StringComparison.Ordinal);
        Assert.Contains($"'{value}'", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_propagation_mode_fails_at_binding()
    {
        Assert.Throws<InvalidOperationException>(() => Resolve(new() { ["GrayRelease:Propagation"] = "Carrier-pigeon" }));
    }

    [Fact]
    public async Task Switching_Propagation_applies_to_the_next_request_without_a_restart()
    {
        var reloadable = new ReloadableConfiguration();
        await using var app = await LoopbackApp.StartAsync(
            builder =>
            {
                ((IConfigurationBuilder)builder.Configuration).Add(reloadable);
                builder.Services.AddGrayRelease(builder.Configuration);
            },
            app =>
            {
                app.UseGrayRelease();
                app.MapGet("/status", () => GrayContext.Current?.ToWireValue() ?? "NONE");
            });
        using var client = new HttpClient { BaseAddress = app.Address, Timeout = TimeSpan.FromSeconds(30) };

        async Task<string> StatusAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/status");
            request.Headers.Add("baggage", "gray.status=GRAY");
            using var response = await client.SendAsync(request);
            return await response.Content.ReadAsStringAsync();
        }

        Assert.Equal("NONE", await StatusAsync());
        reloadable.Replace(new() { ["GrayRelease:Propagation"] = "Baggage" });
        Assert.Equal("GRAY", await StatusAsync());
        reloadable.Replace(new() { ["GrayRelease:Propagation"] = "Baggage", ["GrayRelease:BaggageStatusKey"] = "bad key" });
        Assert.Equal("GRAY", await StatusAsync()); // an invalid reload is rejected; the last valid options stay
    }
}
