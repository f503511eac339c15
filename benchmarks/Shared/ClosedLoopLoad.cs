using System.Diagnostics;

namespace GrayRelease.Benchmarks;

/// <summary>
/// One round of closed-loop load: <c>concurrency</c> workers, each calling again as soon as its call returned, for a
/// fixed time; latencies of the calls that completed, their rate and the process's allocation per call. A source file
/// linked into the gateway (HTTP) and the gRPC load tests.
/// </summary>
internal static class ClosedLoopLoad
{
    /// <summary>
    /// Runs <paramref name="call"/> until <paramref name="duration"/> is over. Its argument counts up per worker from the
    /// worker's index (so workers alternate even and odd, e.g. gray and prod); it returns false for a failed call,
    /// whose latency is left out.
    /// </summary>
    public static async Task<LoadFigures> RunAsync(TimeSpan duration, int concurrency, Func<int, Task<bool>> call)
    {
        using var stop = new CancellationTokenSource(duration);
        var latencies = new List<double>[concurrency];
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        var stopwatch = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
        {
            var own = latencies[worker] = new List<double>(100_000);
            for (var n = worker; !stop.IsCancellationRequested; n++)
            {
                var started = Stopwatch.GetTimestamp();
                if (await call(n))
                {
                    own.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        stopwatch.Stop();
        var allocated = GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore;

        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new LoadFigures(
            all.Length,
            all.Length / stopwatch.Elapsed.TotalSeconds,
            Percentile(all, 0.50),
            Percentile(all, 0.99),
            all.Length == 0 ? 0 : allocated / all.Length);
    }

    /// <summary>The 1, 5 and 15 minute load averages (Linux), to judge how busy the machine was.</summary>
    public static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * p))];
}

/// <summary>What one round measured: completed calls, calls per second, p50 and p99 latency (ms), bytes allocated per call.</summary>
internal sealed record LoadFigures(int Calls, double PerSecond, double P50, double P99, long BytesPerCall);
