using GrayRelease.Propagation;
using Microsoft.Extensions.Options;

namespace GrayRelease;

/// <summary>Checks <see cref="GrayReleaseOptions"/> at start-up and on every reload; each message names the key.</summary>
internal sealed class GrayReleaseOptionsValidator : IValidateOptions<GrayReleaseOptions>
{
    private const string Section = GrayReleaseOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, GrayReleaseOptions options)
    {
        List<string> failures = [];

        if (!IsHttpToken(options.HeaderName))
        {
            failures.Add($"{Section}:HeaderName must be a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~); got '{options.HeaderName}'.");
        }

        if (string.IsNullOrWhiteSpace(options.MetadataKey))
        {
            failures.Add($"{Section}:MetadataKey must not be empty (the registry metadata key that holds an instance's version, usually 'version').");
        }

        if (!Enum.IsDefined(options.NoInstancePolicy))
        {
            failures.Add($"{Section}:NoInstancePolicy must be Fail, FallbackToProd or FallbackToAll; got '{options.NoInstancePolicy}'.");
        }

        if (!Enum.IsDefined(options.UntaggedRequests))
        {
            failures.Add($"{Section}:UntaggedRequests must be CallerVersion, All or Prod; got '{options.UntaggedRequests}'.");
        }

        if (!IsHttpToken(options.LaneHeaderName) || string.Equals(options.LaneHeaderName, options.HeaderName, StringComparison.OrdinalIgnoreCase))
        {
            failures.Add($"{Section}:LaneHeaderName must be a valid HTTP header name other than HeaderName ('{options.HeaderName}'); got '{options.LaneHeaderName}'.");
        }

        if (!Enum.IsDefined(options.Propagation))
        {
            failures.Add($"{Section}:Propagation must be Header, Baggage or Both; got '{options.Propagation}'.");
        }

        if (!W3CBaggage.IsKey(options.BaggageStatusKey))
        {
            failures.Add($"{Section}:BaggageStatusKey must be a W3C baggage key (an HTTP token: letters, digits and !#$%&'*+-.^_`|~); got '{options.BaggageStatusKey}'.");
        }

        if (!W3CBaggage.IsKey(options.BaggageLaneKey) || string.Equals(options.BaggageLaneKey, options.BaggageStatusKey, StringComparison.Ordinal))
        {
            failures.Add($"{Section}:BaggageLaneKey must be a W3C baggage key (an HTTP token) other than BaggageStatusKey ('{options.BaggageStatusKey}'); got '{options.BaggageLaneKey}'.");
        }

        if (string.IsNullOrWhiteSpace(options.LaneMetadataKey))
        {
            failures.Add($"{Section}:LaneMetadataKey must not be empty (the registry metadata key that names an instance's lane, usually 'lane').");
        }

        if (options.Lane is { } lane && !IsLaneName(lane))
        {
            failures.Add($"{Section}:Lane must be a lane name of at most 64 letters, digits, '-', '_' or '.' (or be left out for the baseline); got '{lane}'.");
        }

        foreach (var (laneName, settings) in options.Lanes)
        {
            if (!IsLaneName(laneName))
            {
                failures.Add($"{Section}:Lanes:{laneName} must be named with at most 64 letters, digits, '-', '_' or '.' (the value of the lane header).");
            }

            if (!Enum.IsDefined(settings.Mode))
            {
                failures.Add($"{Section}:Lanes:{laneName}:Mode must be Permissive or Strict; got '{settings.Mode}'.");
            }
        }

        if (options.FailedInstanceQuarantine < TimeSpan.Zero)
        {
            failures.Add($"{Section}:FailedInstanceQuarantine must not be negative; got '{options.FailedInstanceQuarantine}'.");
        }

        if (options.MaxUnknownServices is < 0 or > 1_000_000)
        {
            failures.Add($"{Section}:MaxUnknownServices must be between 0 and 1000000 (host names the instance provider does not know, remembered by the load balancer); got '{options.MaxUnknownServices}'.");
        }

        if (options.MaxMetricTagValues is < 1 or > 100_000)
        {
            failures.Add($"{Section}:MaxMetricTagValues must be between 1 and 100000 (distinct values of the service and version metric tags); got '{options.MaxMetricTagValues}'.");
        }

        if (options.IdleServiceTimeout != TimeSpan.Zero && options.IdleServiceTimeout != Timeout.InfiniteTimeSpan
            && (options.IdleServiceTimeout < TimeSpan.FromSeconds(1) || options.IdleServiceTimeout > TimeSpan.FromDays(365)))
        {
            failures.Add($"{Section}:IdleServiceTimeout must be between 00:00:01 and 365.00:00:00, or 0 / -00:00:00.001 to never forget a service the load balancer stopped picking; got '{options.IdleServiceTimeout}'.");
        }

        foreach (var (serviceName, instances) in options.Instances)
        {
            for (var i = 0; i < instances.Count; i++)
            {
                var key = $"{Section}:Instances:{serviceName}:{i}";
                var instance = instances[i];
                if (!Uri.TryCreate(instance.Address, UriKind.Absolute, out var address) ||
                    (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps) ||
                    address.AbsolutePath != "/" || !string.IsNullOrEmpty(address.Query))
                {
                    failures.Add($"{key}:Address must be an absolute http or https address with no path, such as http://127.0.0.1:7201; got '{instance.Address}'.");
                }

                if (!double.IsFinite(instance.Weight) || instance.Weight < 0)
                {
                    failures.Add($"{key}:Weight must be a finite number >= 0; got '{instance.Weight}'.");
                }
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // The same rule as the inbound lane header (GrayReleaseMiddleware.ReadLane), so a configured lane can be carried.
    internal static bool IsLaneName(string value)
    {
        if (value.Length is 0 or > 64)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsHttpToken(string? value)
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
