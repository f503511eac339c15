using GrayRelease.Testing;
using Xunit.Sdk;

namespace GrayRelease.Nacos.Tests;

/// <summary>The shared wait-until helper (tests/Shared/Eventually.cs) itself: every test project leans on it.</summary>
public sealed class EventuallyTests
{
    [Fact]
    public async Task Returns_as_soon_as_the_condition_holds()
    {
        var polls = 0;
        await Eventually.WaitUntilAsync(() => ++polls == 3, "the third poll");
        Assert.Equal(3, polls);
    }

    [Fact]
    public async Task Awaits_an_asynchronous_condition()
    {
        var polls = 0;
        await Eventually.WaitUntilAsync(async () => { await Task.Yield(); return ++polls == 2; }, "the second poll");
        Assert.Equal(2, polls);
    }

    [Fact]
    public async Task Failure_names_what_was_awaited_and_the_deadline()
    {
        var failure = await Assert.ThrowsAnyAsync<XunitException>(() => Eventually.WaitUntilAsync(() => false, "the moon turns blue", TimeSpan.FromMilliseconds(100)));
        Assert.Contains("the moon turns blue", failure.Message, StringComparison.Ordinal);
        Assert.Contains("0.1 s", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Try_reports_false_when_the_token_ends_the_wait_before_the_deadline()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        Assert.False(await Eventually.TryWaitUntilAsync(() => false, cancellationToken: cancelled.Token));
        Assert.True(await Eventually.TryWaitUntilAsync(() => true, cancellationToken: cancelled.Token));
    }
}
