using GrayRelease.Testing;

namespace GrayRelease.ReliabilityTests.Infrastructure;

/// <summary>Waits until a gateway routes through the whole chain (its registry destinations and configuration are in).</summary>
internal static class Warmup
{
    public static Task UntilRoutedAsync(HttpClient gateway, CancellationToken cancellationToken) =>
        Eventually.WaitUntilAsync(
            async () =>
            {
                var gray = await LoadRunner.SendAsync(gateway, new LoadRequest("/order/orders/0", Expect.Gray, [new("gray", GraySystem.GrayHeaderValue)]), cancellationToken);
                var prod = await LoadRunner.SendAsync(gateway, new LoadRequest("/order/orders/0", Expect.Prod), cancellationToken);
                return gray.Succeeded && prod.Succeeded;
            },
            "the gateway routes gray and prod requests through order-app to user-app",
            cancellationToken: cancellationToken);
}
