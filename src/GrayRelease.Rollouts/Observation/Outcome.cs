namespace GrayRelease.Rollouts;

/// <summary>What became of one proxied request, as counted by the observer (the index into its counters).</summary>
internal enum Outcome
{
    /// <summary>1xx, 2xx or 3xx from the destination.</summary>
    Success = 0,

    /// <summary>4xx: the caller's fault, not counted as an error of the version.</summary>
    ClientError = 1,

    /// <summary>5xx from the destination.</summary>
    ServerError = 2,

    /// <summary>No usable answer: connection refused or reset, timeout, broken response.</summary>
    TransportError = 3,
}

internal static class Outcomes
{
    public const int Count = 4;

    /// <summary>Metric tag values, indexed by <see cref="Outcome"/>.</summary>
    public static readonly string[] TagValues = ["success", "client_error", "server_error", "transport_error"];

    public static Outcome FromStatusCode(int statusCode) => statusCode switch
    {
        >= 500 => Outcome.ServerError,
        >= 400 => Outcome.ClientError,
        _ => Outcome.Success,
    };
}
