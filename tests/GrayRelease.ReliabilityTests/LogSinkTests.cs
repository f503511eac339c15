using GrayRelease.ReliabilityTests.Infrastructure;
using Microsoft.Extensions.Logging;
using CoreEventIds = GrayRelease.Diagnostics.EventIds;
using NacosEventIds = GrayRelease.Nacos.Diagnostics.EventIds;

namespace GrayRelease.ReliabilityTests;

public sealed class LogSinkTests
{
    [Fact]
    public void An_event_id_is_matched_within_the_package_asked_for_only()
    {
        // Core's "unknown services cap reached" and Nacos's "configuration changed" share the number 60.
        Assert.Equal(CoreEventIds.UnknownServiceCapReached, NacosEventIds.ConfigChanged);
        var sink = new LogSink();
        using var provider = sink.For("gateway");
        provider.CreateLogger("GrayRelease.LoadBalancing.GrayLoadBalancer").Log(LogLevel.Warning, new EventId(CoreEventIds.UnknownServiceCapReached), "cap", null, (s, _) => s);
        provider.CreateLogger("GrayRelease.Nacos.Configuration").Log(LogLevel.Information, new EventId(NacosEventIds.ConfigChanged), "changed", null, (s, _) => s);

        var changed = Assert.Single(sink.Where("gateway", "GrayRelease.Nacos.", NacosEventIds.ConfigChanged));
        Assert.Equal("changed", changed.Message);
        Assert.Empty(sink.Where("order-app", "GrayRelease.Nacos.", NacosEventIds.ConfigChanged));
    }
}
