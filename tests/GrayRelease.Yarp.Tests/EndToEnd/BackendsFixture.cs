using GrayRelease.Yarp.Tests.Infrastructure;

namespace GrayRelease.Yarp.Tests.EndToEnd;

/// <summary>Two v1 and two v2 services on loopback, shared by the end-to-end tests of a class.</summary>
public sealed class BackendsFixture : IAsyncLifetime
{
    internal VersionedBackend V1a { get; private set; } = null!;

    internal VersionedBackend V1b { get; private set; } = null!;

    internal VersionedBackend V2a { get; private set; } = null!;

    internal VersionedBackend V2b { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var started = await Task.WhenAll(
            VersionedBackend.StartAsync("v1", cts.Token),
            VersionedBackend.StartAsync("v1", cts.Token),
            VersionedBackend.StartAsync("v2", cts.Token),
            VersionedBackend.StartAsync("v2", cts.Token));
        (V1a, V1b, V2a, V2b) = (started[0], started[1], started[2], started[3]);
    }

    public async Task DisposeAsync()
    {
        foreach (var backend in new[] { V1a, V1b, V2a, V2b })
        {
            if (backend is not null)
            {
                await backend.DisposeAsync();
            }
        }
    }
}
