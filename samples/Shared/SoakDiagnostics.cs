using System.Diagnostics.Metrics;

namespace GrayRelease.Samples;

/// <summary>
/// The soak harness's view into a sample process (benchmarks/GrayRelease.Soak): <c>GET /_soak/diagnostics</c>, mapped
/// only when the environment variable <c>GRAYRELEASE_SOAK_DIAGNOSTICS</c> is <c>1</c> (the harness sets it; nothing
/// else does). It forces a full blocking, compacting GC so that the heap it reports is what is live, not what the GC
/// has not collected yet; that is why it is never mapped in a normal run.
/// </summary>
internal static class SoakDiagnostics
{
    public const string EnvironmentVariable = "GRAYRELEASE_SOAK_DIAGNOSTICS";

    public const string Path = "/_soak/diagnostics";

    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, long> Loops = new(StringComparer.Ordinal);
    private static MeterListener? _listener;
    private static long _induced;

    public static void MapSoakDiagnostics(this WebApplication app)
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) != "1")
        {
            return;
        }

        // The client's loops are counted by the GrayRelease.Nacos meter (grayrelease.nacos.loops, by kind); a listener
        // reads its current value on demand, no exporter needed.
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "GrayRelease.Nacos" && instrument.Name == "grayrelease.nacos.loops")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "kind" && tag.Value is string kind)
                {
                    Loops[kind] = value;
                }
            }
        });
        listener.Start();
        _listener = listener;
        app.Lifetime.ApplicationStopping.Register(listener.Dispose);

        app.MapGet(Path, () =>
        {
            // Counts before this call's own collections, which are reported apart (induced).
            var gen0 = GC.CollectionCount(0);
            var gen1 = GC.CollectionCount(1);
            var gen2 = GC.CollectionCount(2);
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            var induced = Interlocked.Add(ref _induced, 2);
            var heap = GC.GetTotalMemory(forceFullCollection: false);
            var info = GC.GetGCMemoryInfo(GCKind.FullBlocking);
            Dictionary<string, long> loops;
            lock (Gate)
            {
                Loops.Clear();
                _listener?.RecordObservableInstruments();
                loops = new Dictionary<string, long>(Loops, StringComparer.Ordinal);
            }

            return Results.Json(new
            {
                pid = Environment.ProcessId,
                heapAfterGcBytes = heap,
                committedBytes = info.TotalCommittedBytes,
                allocatedBytes = GC.GetTotalAllocatedBytes(),
                gen0,
                gen1,
                gen2,
                inducedGen2 = induced - 2,
                threadPoolThreads = ThreadPool.ThreadCount,
                timers = Timer.ActiveCount,
                loops,
            });
        });
    }
}
