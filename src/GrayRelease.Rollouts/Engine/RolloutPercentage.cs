using GrayRelease.Yarp;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace GrayRelease.Rollouts;

/// <summary>
/// Puts the rollout's percentage into <see cref="GrayGatewayOptions.Percentage"/> (a post-configure step) and raises an
/// options change when it moves, so the gateway recompiles its rules as after any configuration reload. Every other
/// rule (header, IP, city, user) is left as configured: testers still reach gray during and after a rollout.
/// </summary>
internal sealed class RolloutPercentage : IPostConfigureOptions<GrayGatewayOptions>, IOptionsChangeTokenSource<GrayGatewayOptions>, IDisposable
{
    private readonly object _gate = new();
    private CancellationTokenSource _changed = new();
    private double? _percentage;

    public string? Name => Options.DefaultName;

    /// <summary>The percentage applied; null leaves the configured one.</summary>
    public double? Current
    {
        get
        {
            lock (_gate)
            {
                return _percentage;
            }
        }
    }

    public void PostConfigure(string? name, GrayGatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (Current is { } percentage)
        {
            options.Percentage = percentage;
        }
    }

    public IChangeToken GetChangeToken()
    {
        lock (_gate)
        {
            return new CancellationChangeToken(_changed.Token);
        }
    }

    /// <summary>Applies <paramref name="percentage"/>; true when it changed (and the options were reloaded).</summary>
    public bool Set(double? percentage)
    {
        CancellationTokenSource fired;
        lock (_gate)
        {
            if (Nullable.Equals(_percentage, percentage))
            {
                return false;
            }

            _percentage = percentage;
            fired = _changed;
            _changed = new CancellationTokenSource();
        }

        // Outside the lock: the options monitor's listeners run synchronously and read Current. Not disposed: a late
        // registration on the old token must still see it cancelled.
        fired.Cancel();
        return true;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _changed.Dispose();
        }
    }
}
