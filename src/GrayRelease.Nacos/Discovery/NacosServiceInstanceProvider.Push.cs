using System.Text;
using System.Text.Json;
using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Http;
using GrayRelease.Nacos.Naming;

namespace GrayRelease.Nacos.Discovery;

// UDP push: a datagram is a signal to fetch over HTTP, never data; <c>dump</c> answers the cache.
public sealed partial class NacosServiceInstanceProvider
{
    private string? OnPush(NacosPushPacket packet)
    {
        if (packet.Type == "dump")
        {
            return BuildDump();
        }

        if (packet.Data is null || NacosJson.ParseServiceInfo(packet.Data) is not { } info)
        {
            Log.MalformedPush(_logger, packet.Data?.Length ?? 0, "push data");
            return null;
        }

        // The datagram only says "this service changed": its list is never applied (anyone who can send to this port
        // could forge it); the list is fetched over HTTP, the authenticated channel, like a poll.
        var group = info.GroupName ?? (info.Name.Contains(NacosNames.Separator, StringComparison.Ordinal) ? info.Name[..info.Name.IndexOf(NacosNames.Separator, StringComparison.Ordinal)] : NacosNames.DefaultGroup);
        if (info.Clusters.Length == 0 && string.Equals(group, _options.GroupName, StringComparison.Ordinal)
            && _entries.TryGetValue(info.BareName, out var entry) && entry.SignalPush())
        {
            entry.SetSignalled(StartBackground(() => RefreshOnPushAsync(entry)));
        }

        return null;
    }

    private async Task RefreshOnPushAsync(ServiceCacheEntry entry)
    {
        var token = _disposed.Token;
        try
        {
            await RefreshAndSaveAsync(entry, "push", fromPush: true, token).ConfigureAwait(false);
            if (entry.List.Known)
            {
                EnsurePolled(entry);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // A failed push-triggered fetch is retried by the next poll.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            entry.ClearPushSignal();
            Log.BackgroundRefreshFailed(_logger, ex, entry.Name);
        }
    }

    private string BuildDump()
    {
        var builder = new StringBuilder("{");
        foreach (var entry in _entries.Values)
        {
            if (entry.List.Body is { } body)
            {
                if (builder.Length > 1)
                {
                    builder.Append(',');
                }

                builder.Append(JsonSerializer.Serialize(NacosNames.Grouped(entry.Name, _options.GroupName))).Append(':').Append(body);
            }
        }

        return builder.Append('}').ToString();
    }
}
