using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Gateway.Benchmarks;

/// <summary>
/// Sizes of two per-request costs of the gray decision step: one AsyncLocal write (the gray context; .NET allocates a new
/// ExecutionContext for each write) and a log scope on a logger factory with no provider (the load test's set-up). The
/// step as a whole is measured by <c>Deciding_a_request_allocates_nothing_but_the_gray_context_write</c> (Yarp tests).
/// </summary>
[MemoryDiagnoser]
public class GatewayDecisionStepBenchmarks
{
    private ILogger _logger = null!;

    [GlobalSetup]
    public void Setup() =>
        _logger = new ServiceCollection().AddLogging().BuildServiceProvider().GetRequiredService<ILoggerFactory>().CreateLogger("benchmark");

    [Benchmark]
    public void One_AsyncLocal_write()
    {
        var caller = ExecutionContext.Capture()!;
        _ = GrayContext.Begin(GrayStatus.Gray);
        ExecutionContext.Restore(caller);
    }

    [Benchmark]
    public void Log_scope_with_no_provider()
    {
        using var scope = _logger.BeginScope(this);
    }
}
