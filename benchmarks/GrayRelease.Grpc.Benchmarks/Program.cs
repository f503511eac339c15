using BenchmarkDotNet.Running;
using GrayRelease.Grpc.Benchmarks;

// `servers`: the four gRPC backends (v1, v1, v2, v2), started as a child process by the benchmarks.
if (args.Length > 0 && args[0] == "servers")
{
    await ServerProcess.RunAsync();
    return;
}

// `load [seconds] [concurrency] [rounds]`: throughput of a gray gRPC call chain vs the same chain with plain
// round-robin channels, interleaved rounds, medians + spread, failed calls and wrong versions counted.
if (args.Length > 0 && args[0] == "load")
{
    var seconds = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5;
    var concurrency = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 32;
    var rounds = args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 7;
    await GrpcChainLoadTest.RunAsync(TimeSpan.FromSeconds(seconds), concurrency, rounds);
    return;
}

// `probe [calls] [rounds]`: a quick look at time and bytes per sequential call of each client variant.
if (args.Length > 0 && args[0] == "probe")
{
    var calls = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5_000;
    var rounds = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 5;
    await CallProbe.RunAsync(calls, rounds);
    return;
}

// `paired [pairs] [baseline] [measured]`: two clients (plain, gray, handler, policy) call in turns, each call timed;
// the median per-pair difference.
if (args.Length > 0 && args[0] == "paired")
{
    var pairs = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 50_000;
    await CallProbe.RunPairedAsync(pairs, args.Length > 2 ? args[2] : "plain", args.Length > 3 ? args[3] : "gray");
    return;
}

// Anything else goes to BenchmarkDotNet (e.g. `--filter '*'`). Its benchmark processes are programs it generates, so
// they are told where this one is, to start the servers from it.
Environment.SetEnvironmentVariable(ServerProcess.CommandVariable, typeof(ServerProcess).Assembly.Location);
BenchmarkSwitcher.FromAssembly(typeof(ServerProcess).Assembly).Run(args);
