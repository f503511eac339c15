using GrayRelease.Discovery;
using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Naming;

namespace GrayRelease.Nacos.Discovery;

// Applying an answer to the cache: ordering (<c>lastRefTime</c>), push-empty protection, recovery merge, the event.
public sealed partial class NacosServiceInstanceProvider
{
    /// <summary>An answer older than the applied one (a slower server, a late reply) must not undo a newer list.</summary>
    private bool IsOlderThanApplied(ServiceCacheEntry entry, NacosServiceInfo info)
    {
        if (info.LastRefTime <= 0 || entry.AppliedRefTime <= 0 || info.LastRefTime >= entry.AppliedRefTime)
        {
            entry.StaleInARow = 0;
            entry.AppliedRefTime = Math.Max(info.LastRefTime, 0);
            return false;
        }

        if (++entry.StaleInARow >= MaxStaleInARow)
        {
            entry.StaleInARow = 0;
            entry.AppliedRefTime = info.LastRefTime;
            return false;
        }

        Log.StaleAnswerIgnored(_logger, entry.Name, info.LastRefTime, entry.AppliedRefTime);
        return true;
    }

    /// <summary>Applies an answer; the caller holds the entry's gate.</summary>
    private void ApplyLocked(ServiceCacheEntry entry, NacosServiceInfo info, string body, string source)
    {
        if (entry.Evicted)
        {
            return; // no subscriber may get a list of an entry nothing refreshes any more (Evict.cs)
        }

        var current = entry.List;
        if (info.Hosts.Count == 0 && current.Instances.Count > 0 && _options.PushEmptyProtection)
        {
            Log.EmptyListIgnored(_logger, entry.Name, current.Instances.Count);
            return;
        }

        if (info.Hosts.Count == 0 && !current.Known)
        {
            return;
        }

        var instances = InstanceListMapper.Map(entry.Name, info.Hosts);
        if (current.Known && _time.GetTimestamp() < entry.RecoveryUntil)
        {
            instances = InstanceListMapper.KeepMissing(current.Instances, instances, out var kept);
            if (kept > 0)
            {
                Log.KeptDuringRecovery(_logger, entry.Name, kept);
            }
        }

        var signature = InstanceListMapper.Signature(instances);
        if (current.Known && signature == current.Signature)
        {
            return;
        }

        if (!Admit(entry))
        {
            return; // refused: no snapshot file either
        }

        entry.QueueSnapshot(body);
        SetList(entry, instances, signature, body, source);
    }

    /// <summary>Swaps the list and raises the event, still under the gate: subscribers see changes in state order.</summary>
    private void SetList(ServiceCacheEntry entry, ServiceInstance[] instances, string signature, string body, string source)
    {
        if (entry.Evicted || !Admit(entry))
        {
            return;
        }

        entry.List = new CachedList(instances, signature, Known: true, body);
        Log.InstancesChanged(_logger, entry.Name, instances.Length, source);
        NacosMetrics.InstancesChanged(entry.Name, source);
        try
        {
            InstancesChanged?.Invoke(this, new ServiceInstancesChangedEventArgs(entry.Name, instances));
        }
#pragma warning disable CA1031 // A subscriber's failure must not stop the push / poll loops.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ChangeHandlerFailed(_logger, ex, entry.Name);
        }
    }
}
