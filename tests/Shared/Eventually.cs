using System.Diagnostics;
using System.Globalization;
using Xunit;

namespace GrayRelease.Testing;

/// <summary>
/// The one "wait until" of every test project (STYLE.md: one test-support place): polls a condition until it holds,
/// the deadline passes or the token is cancelled. A poll with a deadline, not synchronisation on a guessed time.
/// </summary>
internal static class Eventually
{
    /// <summary>Generous on purpose: the suites run on a loaded 2-core machine beside other builds.</summary>
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(30);

    /// <summary>Short enough that a waiting test reacts promptly, long enough not to spin a core.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>Waits until <paramref name="condition"/> holds; fails the test naming <paramref name="what"/> and the deadline otherwise.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        Fail(await TryWaitUntilAsync(() => Task.FromResult(condition()), deadline, cancellationToken).ConfigureAwait(false), what, deadline, cancellationToken);
    }

    /// <summary>Waits until the asynchronous <paramref name="condition"/> holds; fails the test naming <paramref name="what"/> and the deadline otherwise.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        Fail(await TryWaitUntilAsync(condition, deadline, cancellationToken).ConfigureAwait(false), what, deadline, cancellationToken);
    }

    /// <summary>Whether <paramref name="condition"/> came to hold before the deadline passed or the token was cancelled.</summary>
    public static Task<bool> TryWaitUntilAsync(Func<bool> condition, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return TryWaitUntilAsync(() => Task.FromResult(condition()), deadline, cancellationToken);
    }

    /// <summary>Whether the asynchronous <paramref name="condition"/> came to hold before the deadline passed or the token was cancelled.</summary>
    public static async Task<bool> TryWaitUntilAsync(Func<Task<bool>> condition, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var limit = deadline ?? DefaultDeadline;
        var watch = Stopwatch.StartNew();
        while (true)
        {
            // Checked once more after the deadline passed, so a condition that became true during the last interval counts.
            if (await condition().ConfigureAwait(false))
            {
                return true;
            }

            if (watch.Elapsed > limit || cancellationToken.IsCancellationRequested)
            {
                return false;
            }

            try
            {
                await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // One last look below: the token usually bounds the whole test, and the failure should name what was awaited.
            }
        }
    }

    private static void Fail(bool held, string what, TimeSpan? deadline, CancellationToken cancellationToken)
    {
        if (held)
        {
            return;
        }

        var seconds = (deadline ?? DefaultDeadline).TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        Assert.Fail(cancellationToken.IsCancellationRequested
            ? $"Cancelled (the test's time was up) before the {seconds} s deadline while waiting until {what}."
            : $"Timed out after {seconds} s waiting until {what}.");
    }
}
