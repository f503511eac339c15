using System.Runtime.CompilerServices;
using GrayRelease.LoadBalancing;
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
    /// The destinations the request may use (possibly empty when the cluster has none at all), or <see langword="null"/>
    /// with <paramref name="failure"/> saying why when the wanted version has no destination and no fallback applies.
    /// </summary>
    public DestinationSet? Select(ClusterState cluster, ClusterModel model, IReadOnlyList<DestinationState> available, out NoAvailableInstanceException? failure)
    {
        failure = null;
        var options = _options.CurrentValue;
        var index = GetIndex(cluster, model, available, options.MetadataKey);
        var status = GrayContext.Current;
        var wanted = options.GetWantedVersion(index.ServiceName, status);
        if (wanted is null)
        {
            return index.All;
        }

        if (index.Get(wanted) is { } matching)
        {
            return matching;
        }

        var fallback = options.NoInstancePolicy switch
        {
            // No prod version configured: PROD means any version, so "prod" is every destination (as ServiceRoutingTable).
            NoInstancePolicy.FallbackToProd => options.GetProdVersion(index.ServiceName) is { Length: > 0 } prod ? index.Get(prod) : index.All,
            NoInstancePolicy.FallbackToAll => index.All,
            _ => null,
        };

        if (fallback is { Count: > 0 })
        {
            var mode = status?.ToWireValue() ?? "untagged";
            Log.FallingBack(_logger, model.Config.ClusterId, mode, wanted, options.NoInstancePolicy);
            return fallback;
        }

        failure = new NoAvailableInstanceException(index.ServiceName, status, wanted, index.Versions);
        Log.NoInstanceOfWantedVersion(_logger, model.Config.ClusterId, failure.Message);
        return null;
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
