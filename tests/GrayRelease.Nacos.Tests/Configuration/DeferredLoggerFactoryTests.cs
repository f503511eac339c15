using GrayRelease.Nacos.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace GrayRelease.Nacos.Tests.Configuration;

public class DeferredLoggerFactoryTests
{
    [Fact]
    public void Messages_before_attach_are_written_in_order_on_attach_and_later_ones_directly()
    {
        var loggers = new DeferredLoggerFactory();
        var http = loggers.CreateLogger("GrayRelease.Nacos.Http");
        var config = loggers.CreateLogger("GrayRelease.Nacos.Configuration");
        http.LogWarning(new EventId(1), "first");
        config.LogDebug(new EventId(9), "chatty, dropped before attach");
        config.LogError(new EventId(61), "second");
        var logs = new FakeLogCollector();

        loggers.Attach(new LoggerFactory([new FakeLoggerProvider(logs)]));
        http.LogInformation(new EventId(3), "third");

        Assert.Equal(
            [("GrayRelease.Nacos.Http", "first"), ("GrayRelease.Nacos.Configuration", "second"), ("GrayRelease.Nacos.Http", "third")],
            logs.GetSnapshot().Select(r => (r.Category!, r.Message)).ToArray());
    }

    [Fact]
    public void Only_the_first_messages_are_kept_and_the_rest_are_counted()
    {
        var loggers = new DeferredLoggerFactory();
        var logger = loggers.CreateLogger("c");
        for (var i = 0; i < DeferredLoggerFactory.Capacity + 10; i++)
        {
            logger.LogWarning("message {Index}", i);
        }

        var logs = new FakeLogCollector();
        loggers.Attach(new LoggerFactory([new FakeLoggerProvider(logs)]));

        Assert.Equal(DeferredLoggerFactory.Capacity + 1, logs.Count);
        Assert.Contains("10 Nacos configuration message(s)", logs.LatestRecord.Message, StringComparison.Ordinal);
    }
}
