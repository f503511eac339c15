using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace GrayRelease.Nacos.Diagnostics;

/// <summary>
/// Meter <c>GrayRelease.Nacos</c>. Static rather than from <c>IMeterFactory</c> because the configuration source runs
/// before the service provider exists; OpenTelemetry picks it up by name either way.
/// </summary>
internal static class NacosMetrics
{
    public const string MeterName = "GrayRelease.Nacos";

    /// <summary>The tag value of anything outside a tag's known set.</summary>
    public const string OtherTag = "(other)";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> ServerFailures = Meter.CreateCounter<long>(
        "grayrelease.nacos.server.failures", "{failure}", "Calls to one Nacos server that failed (connection, timeout, 5xx) and went to the next one.");

    private static readonly Counter<long> PushesReceived = Meter.CreateCounter<long>(
        "grayrelease.nacos.push.received", "{datagram}", "UDP push datagrams received from Nacos.");

    private static readonly Counter<long> InstanceListChanges = Meter.CreateCounter<long>(
        "grayrelease.nacos.instances.changes", "{change}", "Instance-list changes raised to the load balancer.");

    private static readonly Counter<long> ConfigReloads = Meter.CreateCounter<long>(
        "grayrelease.nacos.config.reloads", "{reload}", "Configuration reloads caused by a Nacos change.");

    // Background loops running, by kind: flat over hours unless a loop outlives what started it (issue 16's soak reads it).
    private static readonly string[] LoopKinds = ["poll", "listen", "beat", "grpc.connection", "grpc.read", "grpc.health", "udp.push"];

    private static readonly long[] LoopsRunning = new long[LoopKinds.Length];

    private static readonly ObservableUpDownCounter<long> Loops = Meter.CreateObservableUpDownCounter(
        "grayrelease.nacos.loops", ObserveLoops, "{loop}", "Background loops of the Nacos client running now, by kind (poll, listen, beat, grpc.connection, grpc.read, grpc.health, udp.push).");

    /// <summary>Counts a loop as running until the returned scope is disposed (when the loop method returns).</summary>
    public static LoopScope LoopRunning(string kind)
    {
        var index = Array.IndexOf(LoopKinds, kind);
        Debug.Assert(index >= 0, "Unknown loop kind " + kind);
        Interlocked.Increment(ref LoopsRunning[index]);
        return new LoopScope(index);
    }

    /// <summary>The loops running now of one kind (tests).</summary>
    public static long LoopsOf(string kind) => Volatile.Read(ref LoopsRunning[Array.IndexOf(LoopKinds, kind)]);

    public static void ServerFailed(Uri server) =>
        ServerFailures.Add(1, new KeyValuePair<string, object?>("server.address", server.Authority));

    // The type comes from a datagram: only the types Nacos sends are tag values, so a sender cannot grow the series.
    public static void PushReceived(string type) =>
        PushesReceived.Add(1, new KeyValuePair<string, object?>("type", type is "dom" or "service" or "dump" ? type : OtherTag));


    // Raised only for services admitted under nacos:MaxServices, so the service tag has at most that many values.
    public static void InstancesChanged(string serviceName, string source) =>
        InstanceListChanges.Add(1, new KeyValuePair<string, object?>("service", serviceName), new KeyValuePair<string, object?>("source", source));

    public static void ConfigReloaded(string dataId) =>
        ConfigReloads.Add(1, new KeyValuePair<string, object?>("data_id", dataId));

    private static IEnumerable<Measurement<long>> ObserveLoops()
    {
        var result = new Measurement<long>[LoopKinds.Length];
        for (var i = 0; i < LoopKinds.Length; i++)
        {
            result[i] = new Measurement<long>(Volatile.Read(ref LoopsRunning[i]), new KeyValuePair<string, object?>("kind", LoopKinds[i]));
        }

        return result;
    }

    internal readonly struct LoopScope(int index) : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref LoopsRunning[index]);
    }
}
