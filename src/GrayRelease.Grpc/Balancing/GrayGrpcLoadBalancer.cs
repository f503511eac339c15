using Grpc.Core;
using Grpc.Net.Client.Balancer;
using GrayRelease.Discovery;
using GrayRelease.Grpc.Diagnostics;
using GrayRelease.Routing;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Grpc.Balancing;

/// <summary>Creates the <c>gray</c> load-balancing policy named in the channel's service config.</summary>
internal sealed class GrayLoadBalancerFactory(GrayOptionsSnapshot snapshot) : LoadBalancerFactory
{
    public override string Name => GrayGrpcNames.Policy;

    public override LoadBalancer Create(LoadBalancerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new GrayGrpcLoadBalancer(options.Controller, options.LoggerFactory, snapshot);
    }
}

/// <summary>
/// Grpc.Net.Client's subchannel bookkeeping (one subchannel per address, kept across address updates) with a picker
/// that routes each call by its <see cref="GrayContext"/> through the shared <see cref="RoutingTable{T}"/>.
/// </summary>
internal sealed class GrayGrpcLoadBalancer : SubchannelsLoadBalancer
{
    private readonly GrayOptionsSnapshot _options;
    private readonly ILogger _logger;

    // Every address the resolver reported, ready or not: a call whose group has members that are still connecting
    // waits for them instead of failing or going to another version.
    private IReadOnlyList<BalancerAddress> _addresses = [];

    public GrayGrpcLoadBalancer(IChannelControlHelper controller, ILoggerFactory loggerFactory, GrayOptionsSnapshot options)
        : base(controller, loggerFactory)
    {
        _options = options;
        _logger = loggerFactory.CreateLogger<GrayGrpcLoadBalancer>();
    }

    public override void UpdateChannelState(ChannelState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Status.StatusCode == StatusCode.OK && state.Addresses is { } addresses)
        {
            _addresses = addresses;
        }

        base.UpdateChannelState(state);
    }

    protected override SubchannelPicker CreatePicker(IReadOnlyList<Subchannel> readySubchannels) =>
        new GrayPicker(readySubchannels, _addresses, _options, _logger);
}

/// <summary>
/// Picks, per call, a ready subchannel of the version and lane the call's <see cref="GrayContext"/> wants. Runs in the
/// call's own flow (the channel picks inside the call's send, and again for each retry attempt), so a retry re-picks
/// within the same group.
/// </summary>
internal sealed class GrayPicker : SubchannelPicker
{
    private readonly GrayOptionsSnapshot _options;
    private readonly ILogger _logger;
    private readonly IReadOnlyList<Subchannel> _ready;
    private readonly IReadOnlyList<BalancerAddress> _known;
    private Tables _tables;

    public GrayPicker(IReadOnlyList<Subchannel> ready, IReadOnlyList<BalancerAddress> known, GrayOptionsSnapshot options, ILogger logger)
    {
        _ready = ready;
        _known = known;
        _options = options;
        _logger = logger;
        _tables = Build(options.Current);
    }

    public override PickResult Pick(PickContext context)
    {
        var options = _options.Current;
        var tables = Volatile.Read(ref _tables);
        if (!tables.IsGroupedFor(options))
        {
            // A metadata key was reconfigured: regroup once, then continue on the fast path.
            tables = Build(options);
            Volatile.Write(ref _tables, tables);
        }

        var frame = GrayContext.CurrentFrameValue;
        var status = frame?.Status;
        var route = tables.Ready.GetRoute(options, status, frame?.LaneKey, frame?.Lane);
        if (!route.Group.IsEmpty)
        {
            return PickResult.ForSubchannel(route.Group.Pick().Instance);
        }

        var known = tables.Known.GetRoute(options, status, frame?.LaneKey, frame?.Lane);
        if (!known.Group.IsEmpty)
        {
            // Instances of the wanted group exist but none is connected yet: wait for the next picker.
            return PickResult.ForQueue();
        }

        var failure = tables.Known.Fail(status, frame?.Lane, known);
        Log.NoAvailableSubchannel(_logger, tables.Known.ServiceName, failure.Message);
        return PickResult.ForFailure(new Status(StatusCode.Unavailable, failure.Message));
    }

    private Tables Build(GrayReleaseOptions options)
    {
        var ready = new List<RouteMember<Subchannel>>(_ready.Count);
        string? serviceName = null;
        foreach (var subchannel in _ready)
        {
            if (subchannel.CurrentAddress is { } address && ToMember(subchannel, address, options) is { } member)
            {
                serviceName ??= address.Attributes.TryGetValue(GrayGrpcNames.Instance, out var instance) ? instance.ServiceName : null;
                ready.Add(member);
            }
        }

        var known = new List<RouteMember<BalancerAddress>>(_known.Count);
        foreach (var address in _known)
        {
            if (ToMember(address, address, options) is { } member)
            {
                serviceName ??= address.Attributes.TryGetValue(GrayGrpcNames.Instance, out var instance) ? instance.ServiceName : null;
                known.Add(member);
            }
        }

        serviceName ??= string.Empty;
        return new Tables(
            options.MetadataKey,
            options.LaneMetadataKey,
            RoutingTable<Subchannel>.Build(serviceName, ready, static members => new WeightedRotation<Subchannel>(members)),
            RoutingTable<BalancerAddress>.Build(serviceName, known, static members => new WeightedRotation<BalancerAddress>(members)));
    }

    private static RouteMember<T>? ToMember<T>(T target, BalancerAddress address, GrayReleaseOptions options)
        where T : class
    {
        if (!address.Attributes.TryGetValue(GrayGrpcNames.Instance, out var instance) || instance is null)
        {
            // An address that did not come from our resolver (no instance behind it) has no version: the baseline.
            return new RouteMember<T>(target, string.Empty, 1);
        }

        return instance.IsRoutable
            ? new RouteMember<T>(target, instance.GetMetadata(options.MetadataKey) ?? string.Empty, instance.Weight, instance.GetMetadata(options.LaneMetadataKey) ?? string.Empty)
            : null;
    }

    private sealed record Tables(string MetadataKey, string LaneMetadataKey, RoutingTable<Subchannel> Ready, RoutingTable<BalancerAddress> Known)
    {
        public bool IsGroupedFor(GrayReleaseOptions options) =>
            string.Equals(MetadataKey, options.MetadataKey, StringComparison.Ordinal)
            && string.Equals(LaneMetadataKey, options.LaneMetadataKey, StringComparison.Ordinal);
    }
}
