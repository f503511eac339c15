using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GrayRelease.Yarp.Tests.Configuration;

public class GrayGatewayOptionsValidatorTests
{
    private static readonly GrayGatewayOptionsValidator Validator = new();

    [Fact]
    public void Default_options_are_valid()
    {
        Assert.True(Validator.Validate(null, new GrayGatewayOptions()).Succeeded);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(100.5)]
    [InlineData(double.NaN)]
    public void Percentage_outside_0_to_100_is_rejected_naming_the_key(double percentage)
    {
        var result = Validator.Validate(null, new GrayGatewayOptions { Percentage = percentage });

        Assert.True(result.Failed);
        Assert.Contains("GrayRelease:Gateway:Percentage", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Forwarded")]
    [InlineData("X-Real-IP, X-Real-IP")]
    [InlineData("X-Forwarded-For; X-Real-IP")]
    public void Client_address_headers_other_than_the_two_known_ones_once_are_rejected_naming_the_key_and_value(string headers)
    {
        var result = Validator.Validate(null, new GrayGatewayOptions { ClientAddressHeaders = headers });

        Assert.True(result.Failed);
        Assert.Contains($"GrayRelease:Gateway:ClientAddressHeaders '{headers}'", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("X-Real-IP")]
    [InlineData("X-Real-IP, X-Forwarded-For")]
    [InlineData("")]
    public void Client_address_headers_naming_known_headers_are_accepted(string headers)
    {
        Assert.True(Validator.Validate(null, new GrayGatewayOptions { ClientAddressHeaders = headers }).Succeeded);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(0.5)]
    [InlineData(100)]
    public void Percentage_between_0_and_100_is_accepted(double percentage)
    {
        Assert.True(Validator.Validate(null, new GrayGatewayOptions { Percentage = percentage }).Succeeded);
    }

    [Fact]
    public void Bad_ranges_are_rejected_naming_the_key_index_and_value()
    {
        var options = new GrayGatewayOptions
        {
            IpList = ["10.0.0.1", "10.0.0.300"],
            TrustedProxies = ["10.0.0.0/40"],
            Cities = new(StringComparer.OrdinalIgnoreCase) { ["Hangzhou"] = ["10.1.2.3/16"] },
        };

        var result = Validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("GrayRelease:Gateway:IpList:1 '10.0.0.300' is not an IP address or CIDR range.", result.Failures!);
        Assert.Contains(result.Failures!, f => f.StartsWith("GrayRelease:Gateway:TrustedProxies:0 '10.0.0.0/40'", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("GrayRelease:Gateway:Cities:Hangzhou:0 '10.1.2.3/16'", StringComparison.Ordinal));
    }

    [Fact]
    public void Invalid_header_names_are_rejected()
    {
        var result = Validator.Validate(null, new GrayGatewayOptions { HeaderName = "gray tag", UserIdHeader = "X-User:Id" });

        Assert.Contains(result.Failures!, f => f.StartsWith("GrayRelease:Gateway:HeaderName 'gray tag'", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("GrayRelease:Gateway:UserIdHeader 'X-User:Id'", StringComparison.Ordinal));
    }

    [Fact]
    public void Header_name_is_not_required_when_the_header_rule_is_off()
    {
        Assert.True(Validator.Validate(null, new GrayGatewayOptions { HeaderName = null, HeaderValue = "" }).Succeeded);
    }

    [Fact]
    public void Blank_list_entries_are_rejected()
    {
        var result = Validator.Validate(null, new GrayGatewayOptions { UserIdList = ["u1", " "], CityList = [""] });

        Assert.Contains("GrayRelease:Gateway:UserIdList:1 is empty.", result.Failures!);
        Assert.Contains("GrayRelease:Gateway:CityList:0 is empty.", result.Failures!);
    }

    [Fact]
    public async Task Gateway_does_not_start_with_invalid_options()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["GrayRelease:Gateway:IpList:0"] = "10.0.0.0/99" });
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Services.AddReverseProxy().AddGrayRelease();
        await using var app = builder.Build();

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(cts.Token));

        Assert.Contains("GrayRelease:Gateway:IpList:0 '10.0.0.0/99'", exception.Message, StringComparison.Ordinal);
    }
}
