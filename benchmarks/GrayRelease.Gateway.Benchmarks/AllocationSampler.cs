using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace GrayRelease.Gateway.Benchmarks;

/// <summary>
/// The runtime's randomised allocation samples (.NET 10 <c>AllocationSampled</c>, keyword AllocationSampling: on average one
/// object per 100 KB allocated, the distance drawn at random), kept with their time, so the samples of each measurement
/// window can be counted by type: a type with N more samples was allocated about N × 100 KB more. GCAllocationTick is no use
/// here: it fires at exact 100 KB marks, and a loop that allocates the same bytes on every request aliases with them.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords AllocationSamplingKeyword = (EventKeywords)0x80000000000;

    private readonly ConcurrentQueue<(DateTime Time, string Type, long Bytes)> _samples = new();

    public IReadOnlyCollection<(DateTime Time, string Type, long Bytes)> Samples => _samples;

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == RuntimeSource)
        {
            EnableEvents(eventSource, EventLevel.Informational, AllocationSamplingKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventName != "AllocationSampled" || eventData.PayloadNames is null)
        {
            return;
        }

        var type = "?";
        long bytes = 0;
        for (var i = 0; i < eventData.PayloadNames.Count; i++)
        {
            switch (eventData.PayloadNames[i])
            {
                case "TypeName":
                    type = eventData.Payload![i] as string ?? "?";
                    break;
                case "ObjectSize":
                    bytes = Convert.ToInt64(eventData.Payload![i], System.Globalization.CultureInfo.InvariantCulture);
                    break;
            }
        }

        _samples.Enqueue((eventData.TimeStamp, type, bytes));
    }
}
