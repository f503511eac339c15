using GrayRelease.Diagnostics;
using GrayRelease.Propagation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Time.Testing;

namespace GrayRelease.Tests.Propagation;

public sealed class MalformedBaggageReporterTests
{
    [Fact]
    public void Malformed_baggage_is_logged_at_most_once_a_minute_with_a_count_and_never_a_value()
    {
        var time = new FakeTimeProvider();
        var collector = new FakeLogCollector();
        using var factory = LoggerFactory.Create(builder => builder.AddProvider(new FakeLoggerProvider(collector)));
        var reporter = new MalformedBaggageReporter(time, factory);
        var malformed = W3CBaggage.Parse(new StringValues("secret=\"p@ss word\",gray.status=GRAY;;"));

        for (var i = 0; i < 50; i++)
        {
            reporter.Report(malformed);
        }

        time.Advance(TimeSpan.FromSeconds(59));
        reporter.Report(malformed);
        Assert.Equal(1, collector.Count);
        Assert.Equal(EventIds.MalformedBaggage, collector.LatestRecord.Id.Id);
        Assert.DoesNotContain("p@ss", collector.LatestRecord.Message, StringComparison.Ordinal);

        time.Advance(TimeSpan.FromSeconds(2));
        reporter.Report(malformed);
        Assert.Equal(2, collector.Count);
        Assert.Contains("Ignored 102 malformed", collector.LatestRecord.Message, StringComparison.Ordinal); // 51 reports since the first, 2 members each
    }
}
