using Microsoft.Extensions.Options;

namespace GrayRelease.Yarp;

/// <summary>Rejects gateway options that cannot work, naming the configuration key and the bad value.</summary>
internal sealed class GrayGatewayOptionsValidator : IValidateOptions<GrayGatewayOptions>
{
    private const string Prefix = GrayGatewayOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, GrayGatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();

        if (!double.IsFinite(options.Percentage) || options.Percentage is < 0 or > 100)
        {
            failures.Add($"{Prefix}{nameof(options.Percentage)} is {options.Percentage}; it must be between 0 and 100.");
        }

        if (!string.IsNullOrEmpty(options.HeaderValue) && !IsToken(options.HeaderName))
        {
            failures.Add($"{Prefix}{nameof(options.HeaderName)} '{options.HeaderName}' is not a valid HTTP header name (set it, or clear {Prefix}{nameof(options.HeaderValue)} to turn the header rule off).");
        }

        if (!string.IsNullOrEmpty(options.UserIdHeader) && !IsToken(options.UserIdHeader))
        {
            failures.Add($"{Prefix}{nameof(options.UserIdHeader)} '{options.UserIdHeader}' is not a valid HTTP header name.");
        }

        if (!string.IsNullOrWhiteSpace(options.GeoIPDatabase) && !File.Exists(options.GeoIPDatabase))
        {
            failures.Add($"{Prefix}{nameof(options.GeoIPDatabase)} '{options.GeoIPDatabase}' does not exist.");
        }

        if (!ClientAddressResolver.TryParseHeaders(options.ClientAddressHeaders, out _, out var headersError))
        {
            failures.Add($"{Prefix}{nameof(options.ClientAddressHeaders)} '{options.ClientAddressHeaders}' {headersError}.");
        }

        ValidateRanges(options.IpList, $"{Prefix}{nameof(options.IpList)}", failures);
        ValidateRanges(options.TrustedProxies, $"{Prefix}{nameof(options.TrustedProxies)}", failures);
        foreach (var (city, ranges) in options.Cities)
        {
            ValidateRanges(ranges, $"{Prefix}{nameof(options.Cities)}:{city}", failures);
        }

        ValidateNotBlank(options.CityList, $"{Prefix}{nameof(options.CityList)}", failures);
        ValidateNotBlank(options.UserIdList, $"{Prefix}{nameof(options.UserIdList)}", failures);

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateRanges(List<string>? entries, string key, List<string> failures)
    {
        if (entries is null)
        {
            return;
        }

        for (var i = 0; i < entries.Count; i++)
        {
            if (!IPRange.TryParse(entries[i], out _, out var error))
            {
                failures.Add($"{key}:{i} '{entries[i]}' {error}.");
            }
        }
    }

    private static void ValidateNotBlank(List<string>? entries, string key, List<string> failures)
    {
        if (entries is null)
        {
            return;
        }

        for (var i = 0; i < entries.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(entries[i]))
            {
                failures.Add($"{key}:{i} is empty.");
            }
        }
    }

    // RFC 9110 token characters; anything else cannot be a header name.
    private static bool IsToken(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        foreach (var c in value)
        {
            var ok = char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}
