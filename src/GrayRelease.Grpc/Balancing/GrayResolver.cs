using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client.Balancer;
using GrayRelease.Discovery;
using GrayRelease.Grpc.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrayRelease.Grpc.Balancing;

/// <summary>Resolves <c>nacos://service</c> channel addresses through the application's <see cref="IServiceInstanceProvider"/>.</summary>
internal sealed class GrayResolverFactory(IServiceInstanceProvider provider, IOptionsMonitor<GrayReleaseGrpcOptions> grpcOptions) : ResolverFactory
{
    public override string Name => GrayGrpcNames.Scheme;

    public override Resolver Create(ResolverOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new GrayResolver(provider, GrayGrpcNames.ServiceName(options.Address), options.LoggerFactory.CreateLogger<GrayResolver>(), grpcOptions);
    }
}

/// <summary>
/// Feeds a channel the routable instances of one service: the first list from the provider, then every pushed change
/// as an address update. The channel's balancer keeps the subchannel of every address that stays (matched by
/// endpoint), so a push reconnects nothing but the instances that appeared.
/// </summary>
internal sealed class GrayResolver : Resolver
{
    private readonly IServiceInstanceProvider _provider;
    private readonly string _serviceName;
    private readonly ILogger _logger;
    private readonly IOptionsMonitor<GrayReleaseGrpcOptions>? _grpcOptions;
    private readonly object _gate = new();

    // Instances whose port metadata is bad, warned about once while they stay so (a registry pushes the same list again
    // and again): "host:port key=value". Replaced by each resolution, so it never holds more than the service's instances.
    private HashSet<string> _badPorts = new(StringComparer.Ordinal);
    private Action<ResolverResult>? _listener;

    // A channel's address is asked by configuration, not by traffic: the load balancer's idle sweep (which never sees
    // this channel's picks) must not make the provider stop refreshing it (issue 16). Held until the channel is disposed.
    private IDisposable? _pin;

    // A pushed list is newer than the answer of a lookup that began before it: such an answer is dropped.
    private int _pushes;
    private bool _disposed;

    public GrayResolver(IServiceInstanceProvider provider, string serviceName, ILogger<GrayResolver> logger, IOptionsMonitor<GrayReleaseGrpcOptions>? grpcOptions = null)
    {
        _provider = provider;
        _serviceName = serviceName;
        _logger = logger;
        _grpcOptions = grpcOptions;
    }

    public override void Start(Action<ResolverResult> listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        lock (_gate)
        {
            _listener = listener;
            if (!_disposed && _provider is IServiceEvictionTarget target)
            {
                _pin ??= target.Pin(_serviceName);
            }
        }

        _provider.InstancesChanged += OnInstancesChanged;
        Refresh();
    }

    public override void Refresh()
    {
        // The channel's connection manager calls this from whatever flow starts a call: the lookup (which may start a
        // registry refresh loop) must not capture that call's gray tag or Activity.
        using (ExecutionContext.SuppressFlow())
        {
            _ = Task.Run(LookupAsync);
        }
    }

    private async Task LookupAsync()
    {
        var pushesBefore = Volatile.Read(ref _pushes);
        try
        {
            var instances = await _provider.GetInstancesAsync(_serviceName).ConfigureAwait(false);
            if (instances is null)
            {
                Log.UnknownService(_logger, _serviceName);
                Publish(ResolverResult.ForFailure(new Status(StatusCode.Unavailable, $"Service '{_serviceName}' is unknown to the instance provider.")), pushesBefore);
                return;
            }

            Publish(ToResult(instances), pushesBefore);
        }
        catch (Exception exception)
        {
            Log.ResolveFailed(_logger, _serviceName, exception);
            Publish(ResolverResult.ForFailure(new Status(StatusCode.Unavailable, $"Resolving service '{_serviceName}' failed.")), pushesBefore);
        }
    }

    private void OnInstancesChanged(object? sender, ServiceInstancesChangedEventArgs change)
    {
        if (!string.Equals(change.ServiceName, _serviceName, StringComparison.Ordinal))
        {
            return;
        }

        try
        {
            Publish(ToResult(change.Instances), pushesBefore: null);
        }
        catch (Exception exception)
        {
            // Never break the provider's notification loop; the channel keeps its previous addresses.
            Log.ResolveFailed(_logger, _serviceName, exception);
        }
    }

    private ResolverResult ToResult(IReadOnlyList<ServiceInstance> instances)
    {
        var portKey = _grpcOptions?.CurrentValue.PortMetadataKey ?? GrayReleaseGrpcOptions.DefaultPortMetadataKey;
        var addresses = new List<BalancerAddress>(instances.Count);
        HashSet<string>? badPorts = null;
        foreach (var instance in instances)
        {
            // Only routable instances get a subchannel: a disabled or unhealthy instance is never connected to.
            if (!instance.IsRoutable)
            {
                continue;
            }

            var port = instance.Port;
            if (instance.GetMetadata(portKey) is { } portText)
            {
                if (!TryParsePort(portText, out port))
                {
                    // Registry data is untrusted: the instance is skipped (dialling its HTTP port would reach a server
                    // that speaks no gRPC, or another service), never the whole list.
                    badPorts ??= new HashSet<string>(StringComparer.Ordinal);
                    ReportBadPort(instance, portKey, portText, badPorts);
                    continue;
                }
            }

            var address = new BalancerAddress(instance.Host, port);
            address.Attributes.Set(GrayGrpcNames.Instance, instance);
            addresses.Add(address);
        }

        lock (_gate)
        {
            _badPorts = badPorts ?? new HashSet<string>(StringComparer.Ordinal);
        }

        Log.AddressesResolved(_logger, _serviceName, addresses.Count);
        return ResolverResult.ForResult(addresses);
    }

    /// <summary>
    /// A TCP port, 1 to 65535, written as plain decimal digits: no sign, no spaces, no other notation. As grpc-spring's
    /// <c>DiscoveryClientNameResolver.getGrpcPort</c> reads <c>gRPC_port</c>, except that a bad value skips the instance
    /// instead of failing the resolution of every instance.
    /// </summary>
    internal static bool TryParsePort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and <= 65535;

    private void ReportBadPort(ServiceInstance instance, string key, string value, HashSet<string> badPorts)
    {
        // A value from the network: cut short and stripped of control characters before it reaches a log line.
        var shown = Printable(value);
        var id = $"{instance.Host}:{instance.Port} {key}={shown}";
        if (!badPorts.Add(id))
        {
            return; // the same instance twice in one list
        }

        bool warned;
        lock (_gate)
        {
            warned = _badPorts.Contains(id);
        }

        if (!warned)
        {
            Log.BadPortMetadata(_logger, _serviceName, Printable(instance.Host), instance.Port, key, shown);
        }
    }

    private static string Printable(string value)
    {
        const int MaxShown = 64;
        var text = value.Length > MaxShown ? value[..MaxShown] + "..." : value;
        return string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? '?' : source[i];
            }
        });
    }

    /// <param name="result">The addresses, or the failure, to hand the channel.</param>
    /// <param name="pushesBefore">For a lookup's answer, the number of pushes seen when it began; null for a push.</param>
    private void Publish(ResolverResult result, int? pushesBefore)
    {
        // Serialised: the channel expects one update at a time, in order.
        lock (_gate)
        {
            if (_disposed || _listener is null || (pushesBefore is { } seen && seen != _pushes))
            {
                return;
            }

            if (pushesBefore is null)
            {
                Interlocked.Increment(ref _pushes);
            }

            _listener(result);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _provider.InstancesChanged -= OnInstancesChanged;
            lock (_gate)
            {
                _disposed = true;
                _listener = null;
                _pin?.Dispose();
                _pin = null;
            }
        }

        base.Dispose(disposing);
    }
}
