using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace GrayRelease.Yarp;

/// <summary>
/// Round-robin among the destinations left by the version filter. When the pipeline lacks the filter step it filters
/// itself (and warns once), which covers clusters with two or more destinations only.
/// </summary>
internal sealed class GrayRoundRobinLoadBalancingPolicy : ILoadBalancingPolicy
{
    private readonly VersionFilter _filter;
    private readonly ILogger _logger;
    private int _warned;

    public GrayRoundRobinLoadBalancingPolicy(VersionFilter filter, ILogger<GrayRoundRobinLoadBalancingPolicy> logger)
    {
        _filter = filter;
        _logger = logger;
    }

    public string Name => GrayReleaseProxy.RoundRobinPolicy;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        var set = availableDestinations as DestinationSet;
        if (set is null)
        {
            if (Interlocked.Exchange(ref _warned, 1) == 0)
            {
                Log.VersionFilterMissingFromPipeline(_logger, cluster.ClusterId);
            }

            set = _filter.Select(cluster, cluster.Model, availableDestinations, out _);
            if (set is null)
            {
                return null;
            }
        }

        return set.Count == 0 ? null : set.Next();
    }
}
