using System.Runtime.CompilerServices;
using GrayRelease.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Model;

namespace GrayRelease.Yarp;

/// <summary>
/// Narrows a cluster's destinations to the version the current <see cref="GrayContext"/> wants, applying
/// <see cref="GrayReleaseOptions.NoInstancePolicy"/> when that version has none. Shared by the proxy-pipeline step and
/// the load-balancing policy.
/// </summary>
internal sealed class VersionFilter
{
    private readonly ConditionalWeakTable<ClusterState, IndexHolder> _indexes = [];
    private readonly IOptionsMonitor<GrayReleaseOptions> _options;
    private readonly ILogger _logger;

    public VersionFilter(IOptionsMonitor<GrayReleaseOptions> options, ILogger<VersionFilter> logger)
    {
        _options = options;
        _logger = logger;
    }

    /// <summary>
    /// The destinations the request may use, or <see langword="null"/> with <paramref name="failure"/> saying why when
    /// no destination is routable for it (the wanted version has none and no fallback applies, or the cluster has none).
    /// </summary>
    public DestinationSet? Select(ClusterState cluster, ClusterModel model, IReadOnlyList<DestinationState> available, out RouteFailure? failure)
    {
        failure = null;

        // Resolved per request, not memoised per options instance: the gateway's options may be a shared instance.
        var options = _options.CurrentValue;
        var table = GetIndex(cluster, model, available, options.MetadataKey).Routing;
        var status = GrayContext.Current;
        var route = table.Resolve(options, status);
        if (route.Group.IsEmpty)
        {
            failure = table.Fail(status, route);
            Log.NoInstanceOfWantedVersion(_logger, model.Config.ClusterId, failure.Message);
            return null;
        }

        if (route.FellBack)
        {
            LogFallingBack(model.Config.ClusterId, status, route.WantedVersion, options.NoInstancePolicy);
        }

        return (DestinationSet)route.Group;
    }

    private void LogFallingBack(string clusterId, GrayStatus? status, string? wantedVersion, NoInstancePolicy policy)
    {
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            var mode = status is { } known ? known.ToWireValue() : "untagged";
            Log.FallingBack(_logger, clusterId, mode, wantedVersion ?? "any", policy);
        }
    }

    private DestinationIndex GetIndex(ClusterState cluster, ClusterModel model, IReadOnlyList<DestinationState> available, string metadataKey)
    {
        var holder = _indexes.GetValue(cluster, static _ => new IndexHolder());
        var index = Volatile.Read(ref holder.Index);
        if (index is null || !index.IsFor(available, model, metadataKey))
        {
            // Racing builders produce equal indexes; the last write wins and nothing is lost.
            index = new DestinationIndex(available, model, metadataKey);
            Volatile.Write(ref holder.Index, index);
        }

        return index;
    }

    private sealed class IndexHolder
    {
        public DestinationIndex? Index;
    }
}
