using GrayRelease.Diagnostics;
using GrayRelease.Testing;

namespace GrayRelease.Tests.Diagnostics;

public sealed class EventIdsTests
{
    [Fact]
    public void Every_log_line_has_an_event_id_of_its_own_named_in_EventIds() =>
        EventIdsAssert.EachLogLineHasItsOwnNamedId(typeof(Log), typeof(EventIds));
}
