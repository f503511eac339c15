using System.Globalization;
using GrayRelease.SystemBenchmarks;

// System benchmarks of GrayRelease over real sockets and the Nacos emulator.
//   dotnet run -c Release --project benchmarks/GrayRelease.SystemBenchmarks [refresh] [change] [--instances N] [--runs N]
// Gateway throughput (gray pipeline vs plain YARP): benchmarks/GrayRelease.Gateway.Benchmarks, `load` mode.
var instances = Option("--instances", 10_000);
var runs = Option("--runs", 20);
var cacheMillis = Option("--cache-millis", 1000);
var all = !args.Contains("refresh") && !args.Contains("change");

Console.WriteLine($"# GrayRelease system benchmarks — {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
Console.WriteLine();
if (all || args.Contains("refresh"))
{
    await RefreshBenchmark.RunAsync(instances, runs, Console.Out);
}

if (all || args.Contains("change"))
{
    await ChangeLatencyBenchmark.RunAsync(Math.Max(5, runs / 2), cacheMillis, Console.Out);
}

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}
