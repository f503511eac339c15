using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GrayRelease.Yarp.Tests.Configuration;

public class GatewayLaneOptionsValidatorTests
{
    private static readonly GrayGatewayOptionsValidator Validator = new();

    [Fact]
    public void Lane_with_each_rule_kind_is_valid()
    {
        var options = new GrayGatewayOptions();
        options.Lanes["feature-a"] = new GrayGatewayLaneOptions
        {
            Priority = -3,
            HeaderName = "x-lane",
            HeaderValue = "a",
            IpList = ["10.1.0.0/16", "2001:db8::/32"],
            CityList = ["Hangzhou"],
            UserIdList = ["10001"],
            Percentage = 12.5,
        };
        options.Lanes["feature_b.2"] = new GrayGatewayLaneOptions();

        Assert.True(Validator.Validate(null, options).Succeeded);
    }

    [Theory]
    [InlineData("feature a")]
    [InlineData("feature/a")]
    [InlineData("lane-with-a-name-far-longer-than-the-sixty-four-characters-a-lane-header-may-carry")]
    public void Lane_name_that_cannot_travel_in_the_lane_header_is_rejected_naming_the_key(string lane)
    {
        var options = new GrayGatewayOptions();
        options.Lanes[lane] = new GrayGatewayLaneOptions { IpList = ["10.0.0.1"] };

        var result = Validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains($"GrayRelease:Gateway:Lanes:{lane} must be named", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(100.01)]
    [InlineData(double.PositiveInfinity)]
    public void Lane_percentage_outside_0_to_100_is_rejected_naming_the_key(double percentage)
    {
        var result = Validate(new GrayGatewayLaneOptions { Percentage = percentage });

        Assert.True(result.Failed);
        Assert.Contains("GrayRelease:Gateway:Lanes:feature-a:Percentage", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Lane_header_value_without_a_valid_header_name_is_rejected_naming_the_key()
    {
        var result = Validate(new GrayGatewayLaneOptions { HeaderName = "x lane", HeaderValue = "a" });

        Assert.True(result.Failed);
        Assert.Contains("GrayRelease:Gateway:Lanes:feature-a:HeaderName 'x lane'", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Lane_header_name_without_a_value_is_rejected_because_it_would_match_nothing()
    {
        var result = Validate(new GrayGatewayLaneOptions { HeaderName = "x-lane" });

        Assert.True(result.Failed);
        Assert.Contains("GrayRelease:Gateway:Lanes:feature-a:HeaderValue is empty", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Lane_address_list_and_blank_entries_are_rejected_naming_the_index()
    {
        var result = Validate(new GrayGatewayLaneOptions { IpList = ["10.0.0.1", "10.1.2.3/16"], CityList = [" "], UserIdList = [""] });

        Assert.True(result.Failed);
        Assert.Contains("GrayRelease:Gateway:Lanes:feature-a:IpList:1 '10.1.2.3/16'", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("GrayRelease:Gateway:Lanes:feature-a:CityList:0 is empty", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("GrayRelease:Gateway:Lanes:feature-a:UserIdList:0 is empty", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gateway_does_not_start_with_an_invalid_lane()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["GrayRelease:Gateway:Lanes:feature-a:Percentage"] = "150" });
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Services.AddReverseProxy().AddGrayRelease();
        await using var app = builder.Build();

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(cts.Token));

        Assert.Contains("GrayRelease:Gateway:Lanes:feature-a:Percentage is 150", exception.Message, StringComparison.Ordinal);
    }

    private static ValidateOptionsResult Validate(GrayGatewayLaneOptions lane)
    {
        var options = new GrayGatewayOptions();
        options.Lanes["feature-a"] = lane;
        return Validator.Validate(null, options);
    }
}
