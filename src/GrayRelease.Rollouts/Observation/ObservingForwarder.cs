using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace GrayRelease.Rollouts;

/// <summary>
/// Wraps YARP's <see cref="IHttpForwarder"/> (registered by <c>AddGrayReleaseRollout()</c>): once
/// <c>UseGrayReleaseObservation()</c> has switched it on, every proxied request's destination, outcome and forwarding time
/// go to the <see cref="TrafficObserver"/>.
/// </summary>
/// <remarks>
/// Why here, and why by hand: code that runs after forwarding must wait for it, and forwarding completes asynchronously,
/// so a proxy-pipeline middleware (or any async method) boxed its state machine on every request: ≈ 130 B per request,
/// the gap the gateway benchmarks showed with a rollout running. The forwarder returns a <see cref="ValueTask{TResult}"/>,
/// which YARP's forwarder middleware awaits once, so the wrapper can hand out a pooled <see cref="IValueTaskSource{TResult}"/>
/// instead. (The runtime's pooling method builder would do it too, but only in optimised builds: a debug build allocates
/// the state machine itself, and the pool is per thread.)
/// </remarks>
internal sealed class ObservingForwarder : IHttpForwarder
{
    // Requests waiting on a forward at one moment beyond those in the pool take a new one; bounded, so a burst does not
    // keep its objects for ever. About 100 B each.
    private const int PoolSize = 256;

    private readonly IHttpForwarder _inner;
    private readonly TrafficObserver _observer;
    private readonly PendingObservation?[] _pool = new PendingObservation?[PoolSize];
    private readonly object _poolGate = new();
    private int _pooled;
    private volatile bool _observing;

    public ObservingForwarder(IHttpForwarder inner, TrafficObserver observer)
    {
        _inner = inner;
        _observer = observer;
    }

    /// <summary>Whether requests are observed: off until <c>UseGrayReleaseObservation()</c>.</summary>
    public bool Observing => _observing;

    public void StartObserving() => _observing = true;

    public ValueTask<ForwarderError> SendAsync(HttpContext context, string destinationPrefix, HttpMessageInvoker httpClient, ForwarderRequestConfig requestConfig, HttpTransformer transformer) =>
        Send(context, destinationPrefix, httpClient, requestConfig, transformer, cancellationToken: null);

    public ValueTask<ForwarderError> SendAsync(HttpContext context, string destinationPrefix, HttpMessageInvoker httpClient, ForwarderRequestConfig requestConfig, HttpTransformer transformer, CancellationToken cancellationToken) =>
        Send(context, destinationPrefix, httpClient, requestConfig, transformer, cancellationToken);

    private ValueTask<ForwarderError> Send(HttpContext context, string destinationPrefix, HttpMessageInvoker httpClient, ForwarderRequestConfig requestConfig, HttpTransformer transformer, CancellationToken? cancellationToken)
    {
        // Direct forwarding (IHttpForwarder used outside the proxy pipeline) has no proxy feature: not a proxied request.
        if (!_observing || context?.Features.Get<IReverseProxyFeature>() is not { } feature)
        {
            return SendInner(context!, destinationPrefix, httpClient, requestConfig, transformer, cancellationToken);
        }

        // Read now: the continuation below runs without the request's execution context.
        var lane = GrayContext.CurrentLane;
        var start = Stopwatch.GetTimestamp();
        ValueTask<ForwarderError> forwarding;
        try
        {
            forwarding = SendInner(context, destinationPrefix, httpClient, requestConfig, transformer, cancellationToken);
        }
        catch
        {
            Observe(feature, context, lane, start);
            throw;
        }

        if (forwarding.IsCompleted)
        {
            Observe(feature, context, lane, start);
            return forwarding;
        }

        return Rent().Start(feature, context, lane, start, forwarding);
    }

    // Each call goes to the overload it came in by (no token: the overload without one), exactly as without the wrapper.
    private ValueTask<ForwarderError> SendInner(HttpContext context, string destinationPrefix, HttpMessageInvoker httpClient, ForwarderRequestConfig requestConfig, HttpTransformer transformer, CancellationToken? cancellationToken) =>
        cancellationToken is { } token
            ? _inner.SendAsync(context, destinationPrefix, httpClient, requestConfig, transformer, token)
            : _inner.SendAsync(context, destinationPrefix, httpClient, requestConfig, transformer);

    private void Observe(IReverseProxyFeature feature, HttpContext context, string? lane, long start)
    {
        var end = Stopwatch.GetTimestamp();
        if (feature.ProxiedDestination?.Model is not { } destination)
        {
            // No destination was chosen: not a version's outcome.
            return;
        }

        Outcome outcome;
        var error = context.Features.Get<IForwarderErrorFeature>();
        if (error is not null && error.Error != ForwarderError.None)
        {
            if (IsCallersDoing(error.Error))
            {
                return;
            }

            outcome = Outcome.TransportError;
        }
        else
        {
            outcome = Outcomes.FromStatusCode(context.Response.StatusCode);
        }

        _observer.Record(destination, feature.Cluster, lane, outcome, end - start, end);
    }

    /// <summary>The client gave up or broke its side: says nothing about the destination's version.</summary>
    private static bool IsCallersDoing(ForwarderError error) => error is ForwarderError.RequestCanceled
        or ForwarderError.RequestBodyCanceled or ForwarderError.RequestBodyClient
        or ForwarderError.ResponseBodyCanceled or ForwarderError.ResponseBodyClient
        or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeRequestClient
        or ForwarderError.UpgradeResponseCanceled or ForwarderError.UpgradeResponseClient;

    private PendingObservation Rent()
    {
        lock (_poolGate)
        {
            if (_pooled > 0)
            {
                var pending = _pool[--_pooled]!;
                _pool[_pooled] = null;
                return pending;
            }
        }

        return new PendingObservation(this);
    }

    private void Return(PendingObservation pending)
    {
        lock (_poolGate)
        {
            if (_pooled < PoolSize)
            {
                _pool[_pooled++] = pending;
            }
        }
    }

    /// <summary>
    /// One forward being waited on: completes when the inner forward does, after the observation. Reused: back in the
    /// pool once its result has been read (a <see cref="ValueTask{TResult}"/> is awaited once).
    /// </summary>
    private sealed class PendingObservation : IValueTaskSource<ForwarderError>
    {
        private readonly ObservingForwarder _owner;
        private readonly Action _onForwarded;
        private ManualResetValueTaskSourceCore<ForwarderError> _core;
        private ConfiguredValueTaskAwaitable<ForwarderError>.ConfiguredValueTaskAwaiter _forwarding;
        private IReverseProxyFeature? _feature;
        private HttpContext? _context;
        private string? _lane;
        private long _start;

        public PendingObservation(ObservingForwarder owner)
        {
            _owner = owner;
            _onForwarded = OnForwarded;
        }

        public ValueTask<ForwarderError> Start(IReverseProxyFeature feature, HttpContext context, string? lane, long start, ValueTask<ForwarderError> forwarding)
        {
            _feature = feature;
            _context = context;
            _lane = lane;
            _start = start;
            _forwarding = forwarding.ConfigureAwait(false).GetAwaiter();
            var result = new ValueTask<ForwarderError>(this, _core.Version);

            // Unsafe: no execution context is captured (that would allocate); OnForwarded needs none.
            _forwarding.UnsafeOnCompleted(_onForwarded);
            return result;
        }

        public ForwarderError GetResult(short token)
        {
            // Throws on a stale token before anything is reset: a misused ValueTask must not recycle a live request.
            _ = _core.GetStatus(token);
            try
            {
                return _core.GetResult(token);
            }
            finally
            {
                _core.Reset();
                _owner.Return(this);
            }
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);

        private void OnForwarded()
        {
            var (feature, context, lane, start) = (_feature!, _context!, _lane, _start);
            (_feature, _context, _lane) = (null, null, null);
            var forwarding = _forwarding;
            _forwarding = default;

            // Runs as a continuation: nothing may escape it; a failure is handed to the awaiting caller instead.
            Exception? failure = null;
            var result = ForwarderError.None;
            try
            {
                result = forwarding.GetResult();
            }
            catch (Exception exception)
            {
                failure = exception;
            }

            try
            {
                _owner.Observe(feature, context, lane, start);
            }
            catch (Exception exception)
            {
                failure ??= exception;
            }

            // Last: the caller may take the result, and the pool this object, at once.
            if (failure is null)
            {
                _core.SetResult(result);
            }
            else
            {
                _core.SetException(failure);
            }
        }
    }
}
