using System.Text.Json;
using GrayRelease.Nacos;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Rollouts;

/// <summary>
/// The leader lease: a config written only with compare-and-set on the md5 read. The holder rewrites it every third of
/// <see cref="RolloutOptions.LeaseDuration"/> and stops acting after half of it without a successful rewrite; another
/// gateway takes it over only after seeing the same md5 for the whole duration on its own clock. Neither side compares
/// wall clocks, so clock skew between gateways does not matter, and the CAS makes one of two racing takers win.
/// </summary>
internal sealed partial class RolloutEngine
{
    private async Task UpdateLeaseAsync(RolloutOptions options, CancellationToken cancellationToken)
    {
        var attempt = _time.GetTimestamp();
        var item = await _nacos.GetAsync(options.LeaseDataId, options.Group, cancellationToken).ConfigureAwait(false);
        RolloutLeaseDocument? lease = null;
        if (item is not null)
        {
            try
            {
                lease = JsonSerializer.Deserialize(item.Content, RolloutJsonContext.Default.RolloutLeaseDocument);
            }
            catch (JsonException ex)
            {
                // An unreadable lease is a foreign one: it is taken over once it has stayed unchanged for the lease time.
                Log.StateInvalid(_logger, options.LeaseDataId, ex.Message);
            }
        }

        var holder = lease?.Holder ?? (item is null ? string.Empty : "?");
        _leaseHolder = holder.Length == 0 ? null : holder;
        if (holder.Length == 0)
        {
            await TryTakeAsync(options, item?.Md5 ?? AbsentMd5, lease?.Term ?? 0, string.Empty, attempt, cancellationToken).ConfigureAwait(false);
        }
        else if (string.Equals(holder, InstanceId, StringComparison.Ordinal))
        {
            if (!_holdsLease)
            {
                // Ours by name (a restart reusing the id, or a lost answer to our own write): renewing confirms it.
                _lastRenewStart = 0;
            }

            if (!_holdsLease || _time.GetElapsedTime(_lastRenewStart) >= options.LeaseDuration / 3)
            {
                var renewed = new RolloutLeaseDocument { Holder = InstanceId, Term = lease!.Term, Renewal = lease.Renewal + 1, RenewedAt = _time.GetUtcNow(), DurationSeconds = options.LeaseDuration.TotalSeconds };
                if (await _nacos.PublishAsync(options.LeaseDataId, options.Group, Serialize(renewed), item!.Md5, "json", cancellationToken).ConfigureAwait(false))
                {
                    if (!_holdsLease)
                    {
                        _baseline = null;
                        Log.LeaseAcquired(_logger, options.LeaseDataId, InstanceId, renewed.Term, InstanceId);
                    }

                    _holdsLease = true;
                    _lastRenewStart = attempt;
                }
                else
                {
                    LoseLease(options, "the lease changed in Nacos before the renewal");
                }
            }
        }
        else
        {
            if (_holdsLease)
            {
                LoseLease(options, "another gateway (" + holder + ") holds it now");
            }

            if (!string.Equals(item!.Md5, _observedLeaseMd5, StringComparison.Ordinal))
            {
                _observedLeaseMd5 = item.Md5;
                _observedLeaseSince = attempt;
            }
            else if (_time.GetElapsedTime(_observedLeaseSince) >= options.LeaseDuration)
            {
                await TryTakeAsync(options, item.Md5, lease?.Term ?? 0, holder, attempt, cancellationToken).ConfigureAwait(false);
            }
        }

        if (_holdsLease && _time.GetElapsedTime(_lastRenewStart) >= options.LeaseDuration / 2)
        {
            LoseLease(options, "not renewed for half the lease time");
        }
    }

    private async Task TryTakeAsync(RolloutOptions options, string md5, long term, string previous, long attempt, CancellationToken cancellationToken)
    {
        var taken = new RolloutLeaseDocument { Holder = InstanceId, Term = term + 1, RenewedAt = _time.GetUtcNow(), DurationSeconds = options.LeaseDuration.TotalSeconds };
        if (await _nacos.PublishAsync(options.LeaseDataId, options.Group, Serialize(taken), md5, "json", cancellationToken).ConfigureAwait(false))
        {
            _holdsLease = true;
            _lastRenewStart = attempt;
            _leaseHolder = InstanceId;
            _baseline = null;
            Log.LeaseAcquired(_logger, options.LeaseDataId, InstanceId, taken.Term, previous.Length == 0 ? "none" : previous);
        }
    }

    private void LoseLease(RolloutOptions options, string reason)
    {
        if (_holdsLease)
        {
            _holdsLease = false;
            _baseline = null;
            Log.LeaseLost(_logger, options.LeaseDataId, InstanceId, reason);
        }
    }

    /// <summary>On shutdown: an empty holder, so another gateway takes over at its next tick instead of after the lease time.</summary>
    private async Task ReleaseLeaseAsync(CancellationToken cancellationToken)
    {
        var options = _options.CurrentValue;
        _holdsLease = false;
        try
        {
            var item = await _nacos.GetAsync(options.LeaseDataId, options.Group, cancellationToken).ConfigureAwait(false);
            if (item is null)
            {
                return;
            }

            var lease = JsonSerializer.Deserialize(item.Content, RolloutJsonContext.Default.RolloutLeaseDocument);
            if (lease is null || !string.Equals(lease.Holder, InstanceId, StringComparison.Ordinal))
            {
                return;
            }

            var released = new RolloutLeaseDocument { Holder = string.Empty, Term = lease.Term, Renewal = lease.Renewal + 1, RenewedAt = _time.GetUtcNow(), DurationSeconds = options.LeaseDuration.TotalSeconds };
            if (await _nacos.PublishAsync(options.LeaseDataId, options.Group, Serialize(released), item.Md5, "json", cancellationToken).ConfigureAwait(false))
            {
                Log.LeaseReleased(_logger, options.LeaseDataId, InstanceId);
            }
        }
        catch (Exception ex) when (ex is NacosException or JsonException or HttpRequestException or OperationCanceledException)
        {
            // The lease expires by itself.
            Log.LeaseLost(_logger, options.LeaseDataId, InstanceId, "release on shutdown failed: " + ex.Message);
        }
    }

    private static string Serialize(RolloutLeaseDocument lease) => JsonSerializer.Serialize(lease, RolloutJsonContext.Default.RolloutLeaseDocument);
}
