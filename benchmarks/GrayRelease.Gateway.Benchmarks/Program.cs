using BenchmarkDotNet.Running;
using GrayRelease.Gateway.Benchmarks;

// `load [seconds] [concurrency] [rounds]`: end-to-end throughput, gray pipeline vs plain YARP, interleaved rounds.
// Anything else goes to BenchmarkDotNet (e.g. `--filter *`).
if (args.Length > 0 && args[0] == "load")
{
    var seconds = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5;
    var concurrency = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 32;
    var rounds = args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 5;
    await GatewayLoadTest.RunAsync(TimeSpan.FromSeconds(seconds), concurrency, rounds);
    return;
}

// `load-rollout [seconds] [concurrency] [rounds]`: issue 14, the gray gateway with a rollout running (Enabled,
// Progressing, state in an in-process Nacos emulator) vs the same gateway without one, interleaved rounds.
if (args.Length > 0 && args[0] == "load-rollout")
{
    var seconds = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5;
    var concurrency = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 32;
    var rounds = args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 7;
    await GatewayRolloutLoadTest.RunAsync(TimeSpan.FromSeconds(seconds), concurrency, rounds);
    return;
}

// `alloc [requests] [rounds] [all] [logging]`: bytes allocated per request by the gateway process (backends in a child
// process); `all` adds the gray pipeline with one step at a time, `logging` a console logger at Warning to every gateway,
// `types` the allocation samples by type (GCAllocationTick).
if (args.Length > 0 && args[0] == "alloc")
{
    var requests = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 20_000;
    var rounds = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 5;
    await GatewayAllocationTest.RunAsync(requests, rounds, all: args.Contains("all"), logging: args.Contains("logging"), types: args.Contains("types"));
    return;
}

// `alloc-rollout [requests] [rounds] [all] [types]`: issue 14, bytes allocated per request by the gray gateway with a
// rollout running vs without one; `all` adds the rollout's parts one at a time, `types` the allocation samples by type.
if (args.Length > 0 && args[0] == "alloc-rollout")
{
    var requests = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10_000;
    var rounds = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 5;
    await GatewayRolloutAllocationTest.RunAsync(requests, rounds, all: args.Contains("all"), types: args.Contains("types"));
    return;
}

if (args.Length > 0 && args[0] == "backends")
{
    await BackendProcess.RunAsync();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(GatewayLoadTest).Assembly).Run(args);
