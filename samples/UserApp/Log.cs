namespace UserApp;

/// <summary>The sample's own log lines.</summary>
internal static partial class Log
{
    /// <summary>Says, once Kestrel listens, which version and lane this instance serves, so a terminal shows what was started.</summary>
    [LoggerMessage(1, LogLevel.Information, "user-app {Version} started in {Lane}, listening on {Addresses}, gRPC on {GrpcAddresses}")]
    public static partial void Started(ILogger logger, string version, string lane, string addresses, string grpcAddresses);

    /// <summary>Makes a deliberately bad instance obvious in its log: nobody should mistake the demo switch for a real defect.</summary>
    [LoggerMessage(2, LogLevel.Warning, "DEMO SWITCH ON: this instance fails {FailureRate:P0} of requests and adds {ExtraLatencyMs} ms to each (Demo:FailureRate, Demo:ExtraLatencyMs)")]
    public static partial void DemoFaults(ILogger logger, double failureRate, int extraLatencyMs);
}
