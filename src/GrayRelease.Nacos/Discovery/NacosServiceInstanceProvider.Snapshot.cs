using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Http;
using GrayRelease.Nacos.Naming;

namespace GrayRelease.Nacos.Discovery;

// The disk snapshot: served when Nacos cannot answer, written after each change outside the ordering lock.
public sealed partial class NacosServiceInstanceProvider
{
    private async Task LoadSnapshotAsync(ServiceCacheEntry entry, bool answered, CancellationToken token)
    {
        var groupedName = NacosNames.Grouped(entry.Name, _options.GroupName);
        string? body;
        try
        {
            body = _snapshots.TryLoad(groupedName);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.SnapshotReadFailed(_logger, ex, _snapshots.GetPath(groupedName));
            return;
        }

        if (body is null || NacosJson.ParseServiceInfo(body) is not { Hosts.Count: > 0 } info
            || !string.Equals(info.BareName, entry.Name, StringComparison.Ordinal))
        {
            return;
        }

        await entry.Gate.WaitAsync(token).ConfigureAwait(false);
        try
        {
            // Refused under nacos:MaxServices: its snapshot must not make it routable either.
            if (entry.List.Known || entry.Refused)
            {
                return;
            }

            if (answered && !_options.PushEmptyProtection)
            {
                // Nacos answered an empty list and protection is off: a known service with no instance, not "unknown".
                SetList(entry, [], string.Empty, body, "list");
                return;
            }

            if (answered)
            {
                Log.EmptyFirstAnswerServedFromSnapshot(_logger, entry.Name, info.Hosts.Count, _snapshots.GetPath(groupedName));
            }
            else
            {
                Log.ServedFromSnapshot(_logger, entry.Name, info.Hosts.Count, _snapshots.GetPath(groupedName));
            }

            var instances = InstanceListMapper.Map(entry.Name, info.Hosts);
            SetList(entry, instances, InstanceListMapper.Signature(instances), body, "snapshot");
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>Writes the newest queued body; taking and writing under one lock keeps an older body from landing last.</summary>
    private void FlushSnapshot(ServiceCacheEntry entry)
    {
        lock (entry.SnapshotLock)
        {
            if (entry.TakeSnapshot() is not { } body)
            {
                return;
            }

            var groupedName = NacosNames.Grouped(entry.Name, _options.GroupName);
            try
            {
                _snapshots.Save(groupedName, body);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.SnapshotWriteFailed(_logger, ex, _snapshots.GetPath(groupedName));
            }
        }
    }
}
