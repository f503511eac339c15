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

        foreach (var (lane, laneOptions) in options.Lanes)
        {
            ValidateLane(lane, laneOptions, failures);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateLane(string lane, GrayGatewayLaneOptions? options, List<string> failures)
    {
        var key = $"{Prefix}{nameof(GrayGatewayOptions.Lanes)}:{lane}";

        // The name travels downstream as the lane header, and the services accept only this shape (GrayReleaseMiddleware.ReadLane).
        if (!GrayReleaseOptionsValidator.IsLaneName(lane))
        {
            failures.Add($"{key} must be named with at most 64 letters, digits, '-', '_' or '.' (the value of the lane header).");
        }

        if (options is null)
        {
            return;
        }

        if (!double.IsFinite(options.Percentage) || options.Percentage is < 0 or > 100)
        {
            failures.Add($"{key}:{nameof(options.Percentage)} is {options.Percentage}; it must be between 0 and 100.");
        }

        if (!string.IsNullOrEmpty(options.HeaderValue) && !IsToken(options.HeaderName))
        {
            failures.Add($"{key}:{nameof(options.HeaderName)} '{options.HeaderName}' is not a valid HTTP header name (set it, or clear {key}:{nameof(options.HeaderValue)} to turn the lane's header rule off).");
        }
        else if (!string.IsNullOrEmpty(options.HeaderName) && string.IsNullOrWhiteSpace(options.HeaderValue))
        {
            // A lane has no default header value: a name alone would silently match nothing.
            failures.Add($"{key}:{nameof(options.HeaderValue)} is empty while {key}:{nameof(options.HeaderName)} is '{options.HeaderName}'; set the value that puts a request in the lane, or clear the name.");
        }

        ValidateRanges(options.IpList, $"{key}:{nameof(options.IpList)}", failures);
        ValidateNotBlank(options.CityList, $"{key}:{nameof(options.CityList)}", failures);
        ValidateNotBlank(options.UserIdList, $"{key}:{nameof(options.UserIdList)}", failures);
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
