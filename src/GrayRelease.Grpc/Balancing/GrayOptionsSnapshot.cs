using Microsoft.Extensions.Options;

namespace GrayRelease.Grpc.Balancing;

/// <summary>
/// The current <see cref="GrayReleaseOptions"/> in a field, read on every pick: cheaper than
/// <see cref="IOptionsMonitor{TOptions}.CurrentValue"/> (a cache lookup per call), as in the core's load balancer.
/// </summary>
internal sealed class GrayOptionsSnapshot : IDisposable
{
    private readonly IDisposable? _subscription;
    private GrayReleaseOptions _current;

    public GrayOptionsSnapshot(IOptionsMonitor<GrayReleaseOptions> options)
    {
        _current = options.CurrentValue;
        _subscription = options.OnChange((changed, name) =>
        {
            if (string.IsNullOrEmpty(name))
            {
                Volatile.Write(ref _current, changed);
            }
        });
    }

    public GrayReleaseOptions Current => Volatile.Read(ref _current);

    public void Dispose() => _subscription?.Dispose();
}
