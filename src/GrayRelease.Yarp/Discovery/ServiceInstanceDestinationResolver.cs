using System.Collections.Concurrent;
using System.Globalization;
using GrayRelease.Discovery;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace GrayRelease.Yarp;

/// <summary>
/// Replaces every destination whose metadata names a service (<see cref="GrayReleaseProxy.ServiceMetadataKey"/>) with
/// that service's routable instances, each carrying its own metadata (and so its version). The returned change token
/// fires when the provider reports a change of one of those services, and YARP resolves again without a restart.
/// Other destinations go to the resolver that was registered before this one.
/// </summary>
internal sealed class ServiceInstanceDestinationResolver : IDestinationResolver, IDisposable
{
    internal static readonly TimeSpan DefaultRetryDelay = TimeSpan.FromSeconds(5);

    private readonly IServiceInstanceProvider? _provider;
    private readonly IDestinationResolver? _inner;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _changeSources = new(StringComparer.Ordinal);

    // Services named in the proxy configuration are asked by configuration, not by traffic: the load balancer's idle
    // sweep must never make the provider stop refreshing them (issue 16). Bounded by the configured names, as above.
    private readonly ConcurrentDictionary<string, IDisposable> _pins = new(StringComparer.Ordinal);

    public ServiceInstanceDestinationResolver(
        IServiceInstanceProvider? provider,
        IDestinationResolver? inner,
        TimeProvider timeProvider,
        ILogger<ServiceInstanceDestinationResolver> logger)
    {
        _provider = provider;
        _inner = inner;
        _timeProvider = timeProvider;
        _logger = logger;
        if (_provider is not null)
        {
            _provider.InstancesChanged += OnInstancesChanged;
        }
    }

    internal TimeSpan RetryDelay { get; set; } = DefaultRetryDelay;

    public async ValueTask<ResolvedDestinationCollection> ResolveDestinationsAsync(
        IReadOnlyDictionary<string, DestinationConfig> destinations,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destinations);

        Dictionary<string, DestinationConfig>? others = null;
        List<(string Name, DestinationConfig Config, string Service)>? services = null;
        foreach (var (name, config) in destinations)
        {
            if (config.Metadata is { } metadata && metadata.TryGetValue(GrayReleaseProxy.ServiceMetadataKey, out var service) && !string.IsNullOrWhiteSpace(service))
            {
                (services ??= []).Add((name, config, service.Trim()));
            }
            else
            {
                (others ??= new(StringComparer.OrdinalIgnoreCase))[name] = config;
            }
        }

        if (services is null)
        {
            return _inner is null
                ? new ResolvedDestinationCollection(destinations, null)
                : await _inner.ResolveDestinationsAsync(destinations, cancellationToken).ConfigureAwait(false);
        }

        var resolved = new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase);
        var tokens = new List<IChangeToken>();
        if (others is not null)
        {
            var inner = _inner is null
                ? new ResolvedDestinationCollection(others, null)
                : await _inner.ResolveDestinationsAsync(others, cancellationToken).ConfigureAwait(false);
            foreach (var (name, config) in inner.Destinations)
            {
                resolved[name] = config;
            }

            if (inner.ChangeToken is { } innerToken)
            {
                tokens.Add(innerToken);
            }
        }

        foreach (var (name, placeholder, service) in services)
        {
            // Taken before the lookup, so a change that lands during the lookup still triggers a new resolution; pinned
            // before it too, so the lookup never meets a service being evicted.
            Pin(service);
            tokens.Add(GetChangeToken(service));
            var instances = await LookupAsync(service, tokens, cancellationToken).ConfigureAwait(false);
            var count = 0;
            foreach (var instance in instances)
            {
                if (instance.IsRoutable && resolved.TryAdd($"{name}/{instance.InstanceId ?? $"{instance.Host}:{instance.Port}"}", ToDestination(placeholder, instance)))
                {
                    count++;
                }
            }

            Log.ServiceDestinationsResolved(_logger, service, count);
        }

        return new ResolvedDestinationCollection(resolved, tokens.Count == 1 ? tokens[0] : new CompositeChangeToken(tokens));
    }

    public void Dispose()
    {
        if (_provider is not null)
        {
            _provider.InstancesChanged -= OnInstancesChanged;
        }

        foreach (var (_, pin) in _pins)
        {
            pin.Dispose();
        }

        _pins.Clear();
    }

    private void Pin(string service)
    {
        if (_provider is IServiceEvictionTarget target && !_pins.ContainsKey(service))
        {
            var pin = target.Pin(service);
            if (!_pins.TryAdd(service, pin))
            {
                pin.Dispose();
            }
        }
    }

    private async ValueTask<IReadOnlyList<ServiceInstance>> LookupAsync(string service, List<IChangeToken> tokens, CancellationToken cancellationToken)
    {
        if (_provider is null)
        {
            Log.ServiceUnknown(_logger, service);
            return [];
        }

        try
        {
            ValueTask<IReadOnlyList<ServiceInstance>?> lookup;

            // Resolution may run in whatever flow fired the change token; a provider that starts its refresh loop on a
            // first lookup must not hand that flow's tag, Activity or log scope to the loop.
            using (ExecutionContext.SuppressFlow())
            {
                lookup = _provider.GetInstancesAsync(service, cancellationToken);
            }

            var instances = await lookup.ConfigureAwait(false);
            if (instances is null)
            {
                Log.ServiceUnknown(_logger, service);
                return [];
            }

            return instances;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Throwing would stop the gateway from starting while the registry is down; resolve to nothing and retry.
            Log.ServiceLookupFailed(_logger, service, RetryDelay, ex);
            // A timer of a custom TimeProvider may capture the resolving flow (a request's tag, Activity, log scope)
            // and hand it to YARP's re-resolution: create it with the flow suppressed.
            CancellationTokenSource retry;
            using (ExecutionContext.SuppressFlow())
            {
#pragma warning disable CA2000 // The source must outlive this method: it fires the retry through the change token.
                retry = new CancellationTokenSource(RetryDelay, _timeProvider);
#pragma warning restore CA2000
            }

            tokens.Add(new CancellationChangeToken(retry.Token));
            return [];
        }
    }

    private static DestinationConfig ToDestination(DestinationConfig placeholder, ServiceInstance instance)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (placeholder.Metadata is { } placeholderMetadata)
        {
            foreach (var (key, value) in placeholderMetadata)
            {
                metadata[key] = value;
            }
        }

        // The instance's own metadata wins: its version is the one that matters.
        foreach (var (key, value) in instance.Metadata)
        {
            metadata[key] = value;
        }

        metadata[GrayReleaseProxy.WeightMetadataKey] = instance.Weight.ToString("R", CultureInfo.InvariantCulture);

        // The placeholder's host is a service name, not a place to probe: each instance is probed at its own address,
        // keeping only the path (and query) the placeholder's Health named. Without one, YARP probes the address.
        var health = placeholder.Health is { } placeholderHealth && Uri.TryCreate(placeholderHealth, UriKind.Absolute, out var healthUri)
            ? string.Concat(instance.Address, healthUri.PathAndQuery)
            : null;

        return placeholder with { Address = instance.Address, Health = health, Metadata = metadata };
    }

    private void Cancel(string service, CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (AggregateException exception)
        {
            // Nothing here may end the thread-pool thread; the next change fires a fresh token.
            Log.ChangeCallbackFailed(_logger, service, exception);
        }
    }

    private CancellationChangeToken GetChangeToken(string service) =>
        new(_changeSources.GetOrAdd(service, static _ => new CancellationTokenSource()).Token);

    private void OnInstancesChanged(object? sender, ServiceInstancesChangedEventArgs e)
    {
        if (_changeSources.TryRemove(e.ServiceName, out var source))
        {
            // Cancelling runs YARP's re-resolution (and whatever it starts) inline: never in the flow that raised the
            // event, which may be a request's (a lookup that refreshed the registry) with its tag, Activity and scope.
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Resolver.Cancel(state.Service, state.Source), (Resolver: this, Service: e.ServiceName, Source: source), preferLocal: false);
        }
    }
}
