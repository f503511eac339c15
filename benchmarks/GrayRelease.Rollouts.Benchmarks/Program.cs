using BenchmarkDotNet.Running;
using GrayRelease.Rollouts.Benchmarks;

// dotnet run -c Release --project benchmarks/GrayRelease.Rollouts.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(ObservationBenchmarks).Assembly).Run(args);
