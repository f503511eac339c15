using System.Diagnostics;

namespace GrayRelease.ReliabilityTests.Infrastructure;

/// <summary>Short mode (default, CI) or long mode (<c>GRAYRELEASE_LONG=1</c>), and the waiting helpers every scenario uses.</summary>
internal static class Suite
{
    public static readonly bool Long = Environment.GetEnvironmentVariable("GRAYRELEASE_LONG") == "1";

    public static string Mode => Long ? "long" : "short";

    /// <summary>How long to wait for one registry or configuration change to be seen.</summary>
    public static readonly TimeSpan ChangeDeadline = TimeSpan.FromSeconds(20);

    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test naming <paramref name="what"/> after the deadline.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what, CancellationToken cancellationToken, TimeSpan? deadline = null)
    {
        if (!await TryWaitUntilAsync(() => Task.FromResult(condition()), cancellationToken, deadline))
        {
            Assert.Fail($"Timed out after {(deadline ?? ChangeDeadline).TotalSeconds:F0} s waiting until {what}.");
        }
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, CancellationToken cancellationToken, TimeSpan? deadline = null)
    {
        if (!await TryWaitUntilAsync(condition, cancellationToken, deadline))
        {
            Assert.Fail($"Timed out after {(deadline ?? ChangeDeadline).TotalSeconds:F0} s waiting until {what}.");
        }
    }

    public static async Task<bool> TryWaitUntilAsync(Func<Task<bool>> condition, CancellationToken cancellationToken, TimeSpan? deadline = null)
    {
        var watch = Stopwatch.StartNew();
        var limit = deadline ?? ChangeDeadline;
        while (!await condition())
        {
            if (watch.Elapsed > limit)
            {
                return false;
            }

            // A poll interval, not synchronisation: the condition is re-checked until it holds or the deadline passes.
            await Task.Delay(25, cancellationToken);
        }

        return true;
    }

    /// <summary>A token that ends the test after <paramref name="limit"/> so that nothing can hang the run.</summary>
    public static CancellationTokenSource Bound(TimeSpan limit) => new(limit);
}
