using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GrayRelease.Tests.Configuration;

public class GrayReleaseOptionsTests
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
    public void Defaults_match_the_original_design()
    {
        var options = Resolve([]);
        Assert.True(options.Enabled);
        Assert.Equal("gray", options.HeaderName);
        Assert.Equal("version", options.MetadataKey);
        Assert.Equal(NoInstancePolicy.Fail, options.NoInstancePolicy);
        Assert.Equal(UntaggedRequestPolicy.CallerVersion, options.UntaggedRequests);
    }

    [Fact]
    public void Options_bind_from_the_GrayRelease_section()
    {
        var options = Resolve(new()
        {
            ["GrayRelease:Version"] = "V2",
            ["GrayRelease:ProdVersion"] = "V1",
            ["GrayRelease:GrayVersion"] = "V2",
            ["GrayRelease:Services:user-app:GrayVersion"] = "V3",
            ["GrayRelease:NoInstancePolicy"] = "FallbackToProd",
            ["GrayRelease:Instances:user-app:0:Address"] = "http://127.0.0.1:7201",
            ["GrayRelease:Instances:user-app:0:Version"] = "V1",
            ["GrayRelease:Instances:user-app:0:Weight"] = "2.5",
        });
        Assert.Equal("V3", options.GetGrayVersion("user-app"));
        Assert.Equal("V3", options.GetGrayVersion("USER-APP"));
        Assert.Equal("V2", options.GetGrayVersion("order-app"));
        Assert.Equal(NoInstancePolicy.FallbackToProd, options.NoInstancePolicy);
        Assert.Equal(2.5, Assert.Single(options.Instances["user-app"]).Weight);
    }

    [Theory]
    [InlineData("GrayRelease:HeaderName", "", "GrayRelease:HeaderName")]
    [InlineData("GrayRelease:HeaderName", "gray header", "GrayRelease:HeaderName")]
    [InlineData("GrayRelease:MetadataKey", " ", "GrayRelease:MetadataKey")]
    [InlineData("GrayRelease:FailedInstanceQuarantine", "-00:00:01", "GrayRelease:FailedInstanceQuarantine")]
    [InlineData("GrayRelease:Instances:user-app:0:Address", "not a uri", "GrayRelease:Instances:user-app:0:Address")]
    [InlineData("GrayRelease:Instances:user-app:0:Address", "ftp://10.0.0.1:21", "GrayRelease:Instances:user-app:0:Address")]
    [InlineData("GrayRelease:Instances:user-app:0:Address", "http://10.0.0.1:80/path", "GrayRelease:Instances:user-app:0:Address")]
    [InlineData("GrayRelease:Instances:user-app:0:Weight", "-1", "GrayRelease:Instances:user-app:0:Weight")]
    [InlineData("GrayRelease:Instances:user-app:0:Weight", "NaN", "GrayRelease:Instances:user-app:0:Weight")]
    [InlineData("GrayRelease:LaneHeaderName", "gray", "GrayRelease:LaneHeaderName")]
    [InlineData("GrayRelease:LaneHeaderName", "gray lane", "GrayRelease:LaneHeaderName")]
    [InlineData("GrayRelease:LaneMetadataKey", " ", "GrayRelease:LaneMetadataKey")]
    [InlineData("GrayRelease:Lane", "feature a", "GrayRelease:Lane")]
    [InlineData("GrayRelease:Lanes:feature a:Mode", "Strict", "GrayRelease:Lanes:feature a")]
    [InlineData("GrayRelease:Lanes:feature-a:Mode", "7", "GrayRelease:Lanes:feature-a:Mode")]
    public void Invalid_values_fail_validation_naming_the_key(string key, string value, string expectedKey)
    {
        var settings = new Dictionary<string, string?> { ["GrayRelease:Instances:user-app:0:Address"] = "http://127.0.0.1:7201", [key] = value };
        var exception = Assert.Throws<OptionsValidationException>(() => Resolve(settings));
        Assert.Contains(expectedKey, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_enum_value_fails_at_binding_naming_the_value()
    {
        var exception = Assert.Throws<InvalidOperationException>(() => Resolve(new() { ["GrayRelease:NoInstancePolicy"] = "Sometimes" }));
        Assert.Contains("Sometimes", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_options_stop_the_host_at_start_up()
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["GrayRelease:HeaderName"] = "bad header" });
        builder.AddGrayRelease();
        using var host = builder.Build();
        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("GrayRelease:HeaderName", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(GrayStatus.Gray, "V2")]
    [InlineData(GrayStatus.Prod, "V1")]
    [InlineData(GrayStatus.All, null)]
    [InlineData(null, "V9")]
    public void Wanted_version_follows_the_status(GrayStatus? status, string? expected)
    {
        var options = new GrayReleaseOptions { ProdVersion = "V1", GrayVersion = "V2", Version = "V9" };
        Assert.Equal(expected, options.GetWantedVersion("user-app", status));
    }

    [Fact]
    public void Gray_call_to_a_service_without_gray_version_wants_its_prod_version()
    {
        var options = new GrayReleaseOptions { ProdVersion = "V1" };
        Assert.Equal("V1", options.GetWantedVersion("user-app", GrayStatus.Gray));
    }

    [Theory]
    [InlineData(UntaggedRequestPolicy.All, null)]
    [InlineData(UntaggedRequestPolicy.Prod, "V1")]
    [InlineData(UntaggedRequestPolicy.CallerVersion, "V2")]
    public void Untagged_calls_follow_the_untagged_policy(UntaggedRequestPolicy policy, string? expected)
    {
        var options = new GrayReleaseOptions { ProdVersion = "V1", GrayVersion = "V2", Version = "V2", UntaggedRequests = policy };
        Assert.Equal(expected, options.GetWantedVersion("user-app", null));
    }

    [Fact]
    public void Disabled_switch_wants_any_version()
    {
        var options = new GrayReleaseOptions { Enabled = false, ProdVersion = "V1", GrayVersion = "V2" };
        Assert.Null(options.GetWantedVersion("user-app", GrayStatus.Gray));
    }
}
