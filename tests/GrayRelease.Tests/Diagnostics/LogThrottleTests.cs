using GrayRelease.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace GrayRelease.Tests.Diagnostics;

public sealed class LogThrottleTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    [Fact]
    public void The_first_call_gets_through_and_the_next_ones_wait_for_the_interval()
    {
        var time = new FakeTimeProvider();
        var throttle = new LogThrottle(Interval, time);

        Assert.True(throttle.TryEnter(out var first));
        Assert.Equal(0, first);
        Assert.False(throttle.TryEnter(out var refused));
        Assert.Equal(0, refused);

        time.Advance(Interval - TimeSpan.FromTicks(1));
        Assert.False(throttle.TryEnter(out _));

        time.Advance(TimeSpan.FromTicks(1));
        Assert.True(throttle.TryEnter(out var held));
        Assert.Equal(2, held);
    }

    [Fact]
    public void The_count_held_back_starts_again_from_zero_after_each_line()
    {
        var time = new FakeTimeProvider();
        var throttle = new LogThrottle(Interval, time);
        Assert.True(throttle.TryEnter(out _));
        for (var i = 0; i < 5; i++)
        {
            Assert.False(throttle.TryEnter(out _));
        }

        time.Advance(Interval);
        Assert.True(throttle.TryEnter(out var five));
        Assert.Equal(5, five);

        time.Advance(Interval);
        Assert.True(throttle.TryEnter(out var none));
        Assert.Equal(0, none);
    }

    [Fact]
    public void A_zero_interval_lets_every_call_through()
    {
        var throttle = new LogThrottle(TimeSpan.Zero, new FakeTimeProvider());

        for (var i = 0; i < 3; i++)
        {
            Assert.True(throttle.TryEnter(out var held));
            Assert.Equal(0, held);
        }
    }

    [Fact]
    public void Of_callers_racing_in_one_interval_exactly_one_gets_through_and_the_others_are_all_counted()
    {
        var time = new FakeTimeProvider();
        var throttle = new LogThrottle(Interval, time);
        const int Calls = 20_000;
        var entered = 0;

        Parallel.For(0, Calls, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
        {
            if (throttle.TryEnter(out _))
            {
                Interlocked.Increment(ref entered);
            }
        });

        Assert.Equal(1, entered);
        time.Advance(Interval);
        Assert.True(throttle.TryEnter(out var held));
        Assert.Equal(Calls - 1, held);
    }

    [Fact]
    public void A_negative_interval_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LogThrottle(TimeSpan.FromSeconds(-1), TimeProvider.System));
    }
}
