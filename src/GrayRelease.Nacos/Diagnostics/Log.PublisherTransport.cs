using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Diagnostics;

// 640-649: the config publisher under nacos:Transport = Auto probing the gRPC port again after choosing HTTP without a
// ServerCheck answer (its move to gRPC is logged by ConfigTransportChosen, 450).
internal static partial class Log
{
    [LoggerMessage(EventIds.PublisherReprobeMissed, LogLevel.Debug, "The Nacos gRPC port still does not answer ServerCheck (the config publisher stays on HTTP); probing again at a call after {Delay}")]
    public static partial void PublisherReprobeMissed(ILogger logger, TimeSpan delay);

    [LoggerMessage(EventIds.PublisherReprobeFailed, LogLevel.Warning, "Probing the Nacos gRPC port again for the config publisher failed; it stays on HTTP and probes again at a call after {Delay}")]
    public static partial void PublisherReprobeFailed(ILogger logger, Exception exception, TimeSpan delay);
}
