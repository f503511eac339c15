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

        if (options.FailedInstanceQuarantine < TimeSpan.Zero)
        {
            failures.Add($"{Section}:FailedInstanceQuarantine must not be negative; got '{options.FailedInstanceQuarantine}'.");
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
