using System.Globalization;
using GrayRelease.SystemBenchmarks;

// System benchmarks of GrayRelease over real sockets and the Nacos emulator.
//   dotnet run -c Release --project benchmarks/GrayRelease.SystemBenchmarks [refresh] [change] [idle] [--instances N] [--runs N]
//     [--changes N] [--idle-seconds N]   (no mode = refresh + change; idle only when named)
// Gateway throughput (gray pipeline vs plain YARP): benchmarks/GrayRelease.Gateway.Benchmarks, `load` mode.
var instances = Option("--instances", 10_000);
var runs = Option("--runs", 20);
var cacheMillis = Option("--cache-millis", 1000);
var changes = Option("--changes", 50);
var idleSeconds = Option("--idle-seconds", 60);
var all = !args.Contains("refresh") && !args.Contains("change") && !args.Contains("idle");
if (args.Contains("idle-client"))
{
    // The child process of the idle benchmark: only the client, so its CPU time is the client's alone.
    await IdleBenchmark.RunClientAsync(Text("--server"), Option("--grpc-port", 0), Text("--transport"), args.Contains("--listen"), idleSeconds);
    return;
}

Console.WriteLine($"# GrayRelease system benchmarks — {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
Console.WriteLine();
if (all || args.Contains("refresh"))
{
    await RefreshBenchmark.RunAsync(instances, runs, Console.Out);
}

if (all || args.Contains("change"))
{
    await ChangeLatencyBenchmark.RunAsync(changes, cacheMillis, Console.Out);
}

if (args.Contains("idle"))
{
    await IdleBenchmark.RunAsync(idleSeconds, Console.Out);
}

string Text(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : throw new ArgumentException("missing " + name);
}

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}
