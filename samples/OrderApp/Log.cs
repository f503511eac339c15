namespace OrderApp;

/// <summary>The sample's own log lines.</summary>
internal static partial class Log
{
    /// <summary>Says, once Kestrel listens, which version and lane this instance serves, so a terminal shows what was started.</summary>
    [LoggerMessage(1, LogLevel.Information, "order-app {Version} started in {Lane}, listening on {Addresses}")]
    public static partial void Started(ILogger logger, string version, string lane, string addresses);
}
