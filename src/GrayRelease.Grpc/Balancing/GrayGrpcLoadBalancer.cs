using Grpc.Core;
using Grpc.Net.Client.Balancer;
using GrayRelease.Discovery;
using GrayRelease.Grpc.Diagnostics;
using GrayRelease.LoadBalancing;
using GrayRelease.Routing;
using Microsoft.Extensions.Logging;
using GrayReleaseMetrics = GrayRelease.Diagnostics.GrayReleaseMetrics;

namespace GrayRelease.Grpc.Balancing;

/// <summary>Creates the <c>gray</c> load-balancing policy named in the channel's service config.</summary>
internal sealed class GrayLoadBalancerFactory(GrayOptionsSnapshot snapshot, GrayReleaseMetrics metrics) : LoadBalancerFactory
{
    public override string Name => GrayGrpcNames.Policy;

    public override LoadBalancer Create(LoadBalancerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new GrayGrpcLoadBalancer(options.Controller, options.LoggerFactory, snapshot, metrics);
    }
}

/// <summary>
/// Grpc.Net.Client's subchannel bookkeeping (one subchannel per address, kept across address updates) with a picker
/// that routes each call by its <see cref="GrayContext"/> through the shared <see cref="RoutingTable{T}"/>.
/// </summary>
internal sealed class GrayGrpcLoadBalancer : SubchannelsLoadBalancer
{
    private readonly GrayOptionsSnapshot _options;
    private readonly GrayReleaseMetrics _metrics;
    private readonly ILogger _logger;

    // Every address the resolver reported, ready or not: a call whose group has members that are still connecting
    // waits for them instead of failing or going to another version.
    private IReadOnlyList<BalancerAddress> _addresses = [];

    private readonly SubchannelStates _states;

    public GrayGrpcLoadBalancer(IChannelControlHelper controller, ILoggerFactory loggerFactory, GrayOptionsSnapshot options, GrayReleaseMetrics metrics)
        : this(new SubchannelStates(controller), loggerFactory, options, metrics)
    {
    }

    private GrayGrpcLoadBalancer(SubchannelStates states, ILoggerFactory loggerFactory, GrayOptionsSnapshot options, GrayReleaseMetrics metrics)
        : base(states, loggerFactory)
    {
        _states = states;
        _options = options;
        _metrics = metrics;
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
        new GrayPicker(readySubchannels, _addresses, _states.Failing(), _options, _metrics, _logger);
}

/// <summary>
/// The channel's controller, passed through, that also follows the state of every subchannel it creates: the base
/// class hands the picker only the ready ones, and the picker must tell "still connecting" (wait) from "failing" (fail).
/// </summary>
internal sealed class SubchannelStates(IChannelControlHelper inner) : IChannelControlHelper
{
    private readonly Dictionary<Subchannel, ConnectivityState> _states = [];

    public Subchannel CreateSubchannel(SubchannelOptions options)
    {
        var subchannel = inner.CreateSubchannel(options);

        // Registered before the base class's own callback (called in order), so a picker built on a state change sees it.
        subchannel.OnStateChanged(state =>
        {
            lock (_states)
            {
                if (state.State == ConnectivityState.Shutdown)
                {
                    _states.Remove(subchannel);
                }
                else
                {
                    _states[subchannel] = state.State;
                }
            }
        });
        return subchannel;
    }

    public void UpdateState(BalancerState state) => inner.UpdateState(state);

    public void RefreshResolver() => inner.RefreshResolver();

    /// <summary>The endpoints whose subchannel is in TRANSIENT_FAILURE now.</summary>
    public HashSet<System.Net.DnsEndPoint> Failing()
    {
        var failing = new HashSet<System.Net.DnsEndPoint>();
        lock (_states)
        {
            foreach (var (subchannel, state) in _states)
            {
                // CurrentAddress is null while the subchannel has no connection: ask for the addresses it was given.
                if (state == ConnectivityState.TransientFailure)
                {
                    foreach (var address in subchannel.GetAddresses())
                    {
                        failing.Add(address.EndPoint);
                    }
                }
            }
        }

        return failing;
    }
}

/// <summary>
/// Picks, per call, a ready subchannel of the version and lane the call's <see cref="GrayContext"/> wants. Runs in the
/// call's own flow (the channel picks inside the call's send, and again for each retry attempt), so a retry re-picks
/// within the same group.
/// </summary>
internal sealed class GrayPicker : SubchannelPicker
{
    private readonly GrayOptionsSnapshot _options;
    private readonly GrayReleaseMetrics _metrics;
    private readonly ILogger _logger;
    private readonly IReadOnlyList<Subchannel> _ready;
    private readonly IReadOnlyList<BalancerAddress> _known;
    private readonly HashSet<System.Net.DnsEndPoint> _failing;
    private Tables _tables;

    public GrayPicker(IReadOnlyList<Subchannel> ready, IReadOnlyList<BalancerAddress> known, HashSet<System.Net.DnsEndPoint> failing, GrayOptionsSnapshot options, GrayReleaseMetrics metrics, ILogger logger)
    {
        _ready = ready;
        _known = known;
        _failing = failing;
        _options = options;
        _metrics = metrics;
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

        // The registry decides where the call goes (lane, version, NoInstancePolicy fallback), as on the HttpClient path
        // and the gateway; connectivity only chooses among that group's instances. Deciding over the connected
        // instances instead sent a lane call to the baseline, or a GRAY call to the fallback version, whenever the
        // group's instances were still connecting or had died before the registry noticed.
        var route = tables.Known.GetRoute(options, status, frame?.LaneKey, frame?.Lane);
        var group = (AddressGroup)route.Group; // every group of the table comes from AddressGroup's factory
        if (!group.Ready.IsEmpty)
        {
            // Every attempt of a call is a pick (a retry re-picks), as every attempt of an HttpClient call is.
            var picked = group.Ready.Pick();
            _metrics.InstancePicked(tables.Known.ServiceName, picked.Version, picked.Lane);
            return picked.Instance.Result;
        }

        if (group.AnyReachable)
        {
            // Instances of the group exist and are connecting: wait for the next picker.
            return PickResult.ForQueue();
        }

        // "No instance" carries the core's exception as the status's debug exception: Grpc.Net.Client makes it the
        // RpcException's inner exception (Grpc.Core.Api/RpcException.cs: base(message, status.DebugException)), where
        // UseGrayRelease() finds it and answers 503, as for the HttpClient path. A server that answered UNAVAILABLE
        // itself, or instances failing to connect, carry no such exception and stay errors of the call.
        NoAvailableInstanceException? noInstance = null;
        string message;
        if (route.Group.IsEmpty)
        {
            noInstance = new NoAvailableInstanceException(tables.Known.Fail(status, frame?.Lane, route));
            message = noInstance.Message;
        }
        else
        {
            message = $"Every instance of service '{tables.Known.ServiceName}' that this call may reach (wanted version: {route.WantedVersion ?? "any"}) is registered but failing to connect.";
        }

        // gRPC's rule for calls without wait-for-ready: no usable target fails the call at once (it never goes to
        // another version); a call with wait-for-ready is queued by the channel instead. Counted as "no instance"
        // either way: the wanted group has nothing that can serve, as when the HttpClient path throws.
        _metrics.NoInstance(tables.Known.ServiceName, status, LaneTag(frame?.LaneKey, frame?.Lane));
        Log.NoAvailableSubchannel(_logger, tables.Known.ServiceName, message);
        return PickResult.ForFailure(new Status(StatusCode.Unavailable, message, noInstance));
    }

    // As the core's GrayLoadBalancer: the lane comes from call metadata, so only a lane this process knows (configured,
    // or in the registry) may become a tag value; a client cannot grow the metric's series by inventing lanes.
    private static string LaneTag(LaneKey? laneKey, string? lane) =>
        lane is null ? string.Empty : (laneKey ?? LaneRegistry.Find(lane))?.Name ?? GrayReleaseMetrics.UnknownLane;

    private Tables Build(GrayReleaseOptions options)
    {
        // One target per ready subchannel, by the endpoint it is connected to (a subchannel kept across address
        // updates holds an older BalancerAddress object for the same endpoint).
        var ready = new Dictionary<System.Net.DnsEndPoint, ReadyTarget>(_ready.Count);
        foreach (var subchannel in _ready)
        {
            if (subchannel.CurrentAddress is { } address)
            {
                ready.TryAdd(address.EndPoint, new ReadyTarget(subchannel));
            }
        }

        var known = new List<RouteMember<BalancerAddress>>(_known.Count);
        string? serviceName = null;
        foreach (var address in _known)
        {
            if (ToMember(address, address, options) is { } member)
            {
                serviceName ??= address.Attributes.TryGetValue(GrayGrpcNames.Instance, out var instance) ? instance.ServiceName : null;
                known.Add(member);
            }
        }

        var failing = _failing;
        return new Tables(
            options.MetadataKey,
            options.LaneMetadataKey,
            RoutingTable<BalancerAddress>.Build(serviceName ?? string.Empty, known, members => new AddressGroup(members, ready, failing)));
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

    /// <summary>Every registered (routable) address, grouped as the routing core groups instances.</summary>
    private sealed record Tables(string MetadataKey, string LaneMetadataKey, RoutingTable<BalancerAddress> Known)
    {
        public bool IsGroupedFor(GrayReleaseOptions options) =>
            string.Equals(MetadataKey, options.MetadataKey, StringComparison.Ordinal)
            && string.Equals(LaneMetadataKey, options.LaneMetadataKey, StringComparison.Ordinal);
    }
}

/// <summary>
/// A group of registered addresses (a lane's, a version's, a fallback, or all of them) with, built once per picker, the
/// members whose subchannel is ready (the pick rotates over those) and whether any member is not failing to connect.
/// </summary>
internal sealed class AddressGroup : WeightedRotation<BalancerAddress>
{
    public AddressGroup(RouteMember<BalancerAddress>[] members, Dictionary<System.Net.DnsEndPoint, ReadyTarget> ready, HashSet<System.Net.DnsEndPoint> failing)
        : base(members)
    {
        var readyMembers = new List<RouteMember<ReadyTarget>>(members.Length);
        foreach (var member in members)
        {
            var endPoint = member.Instance.EndPoint;
            if (ready.TryGetValue(endPoint, out var target))
            {
                readyMembers.Add(new RouteMember<ReadyTarget>(target, member.Version, member.Weight, member.Lane));
            }

            AnyReachable |= !failing.Contains(endPoint);
        }

        Ready = new WeightedRotation<ReadyTarget>([.. readyMembers]);
    }

    /// <summary>The members whose subchannel is ready, in their own weighted rotation.</summary>
    public WeightedRotation<ReadyTarget> Ready { get; }

    /// <summary>Some member is ready or still connecting (not in TRANSIENT_FAILURE): a call may wait for it.</summary>
    public bool AnyReachable { get; }
}

/// <summary>A ready subchannel with its pick result made once, so a pick allocates nothing.</summary>
internal sealed class ReadyTarget(Subchannel subchannel)
{
    public PickResult Result { get; } = PickResult.ForSubchannel(subchannel);
}
