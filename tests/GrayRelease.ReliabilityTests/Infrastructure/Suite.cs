namespace GrayRelease.ReliabilityTests.Infrastructure;

/// <summary>Short mode (default, CI) or long mode (<c>GRAYRELEASE_LONG=1</c>), and the bound every scenario runs under (waiting: <see cref="GrayRelease.Testing.Eventually"/>).</summary>
internal static class Suite
{
    public static readonly bool Long = Environment.GetEnvironmentVariable("GRAYRELEASE_LONG") == "1";

    public static string Mode => Long ? "long" : "short";

    /// <summary>A token that ends the test after <paramref name="limit"/> so that nothing can hang the run.</summary>
    public static CancellationTokenSource Bound(TimeSpan limit) => new(limit);
}
