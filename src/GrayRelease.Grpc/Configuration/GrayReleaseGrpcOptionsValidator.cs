using Microsoft.Extensions.Options;

namespace GrayRelease.Grpc;

/// <summary>Checks <see cref="GrayReleaseGrpcOptions"/> at start-up and on every reload; each message names the key.</summary>
internal sealed class GrayReleaseGrpcOptionsValidator : IValidateOptions<GrayReleaseGrpcOptions>
{
    // Nacos accepts metadata keys far longer, but a key is a short name: a long one is a mistake (a value pasted as key).
    internal const int MaxKeyLength = 128;

    public ValidateOptionsResult Validate(string? name, GrayReleaseGrpcOptions options)
    {
        var key = options.PortMetadataKey;
        if (string.IsNullOrWhiteSpace(key) || key.Length > MaxKeyLength || key.Trim().Length != key.Length)
        {
            return ValidateOptionsResult.Fail(
                $"{GrayReleaseGrpcOptions.SectionName}:PortMetadataKey must be a metadata key of 1 to {MaxKeyLength} characters without surrounding spaces " +
                $"(the instance metadata entry that holds the gRPC port, usually '{GrayReleaseGrpcOptions.DefaultPortMetadataKey}'); got '{key}'.");
        }

        return ValidateOptionsResult.Success;
    }
}
