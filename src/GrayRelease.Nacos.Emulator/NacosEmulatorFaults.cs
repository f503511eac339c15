namespace GrayRelease.Nacos.Emulator;

/// <summary>
/// Faults the emulator injects into its HTTP answers at run time, so tests can see how clients cope.
/// All are off by default; each applies to every endpoint, or only to paths starting with <see cref="PathPrefix"/>.
/// </summary>
public sealed class NacosEmulatorFaults
{
    private readonly object _gate = new();
    private TaskCompletionSource _changed = NewSignal();
    private TimeSpan _responseDelay;
    private bool _serverErrors;
    private int _serverErrorStatusCode = 500;
    private bool _permissionDenied;
    private bool _malformedBodies;
    private bool _hang;
    private string? _pathPrefix;
    private DateTimeOffset _rejectGrpcUntil = DateTimeOffset.MinValue;

    /// <summary>Every answer is held back this long before it is produced.</summary>
    public TimeSpan ResponseDelay
    {
        get => _responseDelay;
        set => Set(ref _responseDelay, value < TimeSpan.Zero ? TimeSpan.Zero : value);
    }

    /// <summary>Every call is answered 500 with a plain-text body.</summary>
    public bool ServerErrors
    {
        get => _serverErrors;
        set => Set(ref _serverErrors, value);
    }

    /// <summary>
    /// The status <see cref="ServerErrors"/> answers with (500 to 599). 500 is what a server answers for an error of
    /// one request; 502 / 503 / 504 are what a server that is starting, overloaded or behind a failing proxy answers.
    /// </summary>
    public int ServerErrorStatusCode
    {
        get => _serverErrorStatusCode;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 500);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 599);
            Set(ref _serverErrorStatusCode, value);
        }
    }

    /// <summary>
    /// With auth on, a caller whose token (or credentials) is valid is still refused with 403, as a real server
    /// refuses a user without the permission for the resource. Honours <see cref="PathPrefix"/>, which over gRPC
    /// matches the request type (e.g. <c>ConfigQueryRequest</c>).
    /// </summary>
    public bool PermissionDenied
    {
        get => _permissionDenied;
        set => Set(ref _permissionDenied, value);
    }

    /// <summary>Every call is answered 200 with a truncated, unparsable body.</summary>
    public bool MalformedBodies
    {
        get => _malformedBodies;
        set => Set(ref _malformedBodies, value);
    }

    /// <summary>Calls are never answered while this is set (the client has to give up).</summary>
    public bool Hang
    {
        get => _hang;
        set => Set(ref _hang, value);
    }

    /// <summary>When set, faults only apply to request paths starting with this (e.g. <c>/nacos/v1/cs/</c>).</summary>
    public string? PathPrefix
    {
        get => _pathPrefix;
        set => Set(ref _pathPrefix, string.IsNullOrEmpty(value) ? null : value);
    }

    /// <summary>Whether new gRPC connections are refused (closed as soon as they open) right now.</summary>
    public bool RejectsGrpcConnections => DateTimeOffset.UtcNow < _rejectGrpcUntil;

    internal Grpc.IGrpcConnectionControl? GrpcControl { get; set; }

    internal Auth.TokenService? Tokens { get; set; }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _grpcFailures = new(StringComparer.Ordinal);

    /// <summary>
    /// The next <paramref name="count"/> gRPC requests of <paramref name="requestType"/> (e.g. <c>InstanceRequest</c>)
    /// are answered with a typed failure (resultCode 500, errorCode 500), as a server whose handler threw.
    /// </summary>
    /// <param name="requestType">The request's <c>Metadata.type</c>.</param>
    /// <param name="count">How many; zero or less clears it.</param>
    public void FailNextGrpcRequests(string requestType, int count)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestType);
        if (count <= 0)
        {
            _grpcFailures.TryRemove(requestType, out _);
        }
        else
        {
            _grpcFailures[requestType] = count;
        }
    }

    /// <summary>Whether this request is one of those <see cref="FailNextGrpcRequests"/> asked to fail (counts it down).</summary>
    internal bool TakeGrpcFailure(string requestType)
    {
        while (_grpcFailures.TryGetValue(requestType, out var left))
        {
            if (left <= 0)
            {
                return false;
            }

            if (_grpcFailures.TryUpdate(requestType, left - 1, left))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Forgets every access token issued so far (a server restarted with a new <c>nacos.core.auth.plugin.nacos.token.secret.key</c>):
    /// the next call with one is refused (HTTP 403, gRPC errorCode 403 "token invalid!") until the client logs in again.
    /// </summary>
    /// <returns>How many tokens were revoked.</returns>
    public int RevokeAccessTokens() => Tokens?.RevokeAll() ?? 0;

    /// <summary>Closes every gRPC connection (the socket): their instances are deregistered and pushed at once.</summary>
    /// <returns>How many connections were closed.</returns>
    public int DropGrpcConnections() => GrpcControl?.DropAll() ?? 0;

    /// <summary>Refuses new gRPC connections for <paramref name="duration"/> (wall clock): each is closed as it opens.</summary>
    /// <param name="duration">How long; zero or less stops refusing.</param>
    public void RejectGrpcConnections(TimeSpan duration) =>
        Set(ref _rejectGrpcUntil, duration <= TimeSpan.Zero ? DateTimeOffset.MinValue : DateTimeOffset.UtcNow + duration);

    /// <summary>
    /// Sends <c>ConnectResetRequest</c> (no target: "reconnect to the next server") on every set-up gRPC connection,
    /// as an operator's rebalancing does, and waits up to 3 s for the answers.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>How many connections answered.</returns>
    public Task<int> ResetGrpcConnectionsAsync(CancellationToken cancellationToken = default) =>
        GrpcControl?.ResetAllAsync(cancellationToken) ?? Task.FromResult(0);

    /// <summary>Switches every fault off.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _responseDelay = TimeSpan.Zero;
            _serverErrors = false;
            _serverErrorStatusCode = 500;
            _permissionDenied = false;
            _malformedBodies = false;
            _hang = false;
            _pathPrefix = null;
            _rejectGrpcUntil = DateTimeOffset.MinValue;
            SignalLocked();
        }
    }

    internal bool AppliesTo(string path)
    {
        if (!_hang && !_serverErrors && !_malformedBodies && _responseDelay == TimeSpan.Zero)
        {
            return false;
        }

        var prefix = _pathPrefix;
        return prefix is null || path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase);
    }

    internal bool DeniesPermission(string path)
    {
        if (!_permissionDenied)
        {
            return false;
        }

        var prefix = _pathPrefix;
        return prefix is null || path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Completes on the next change of any fault, so a hanging request can re-check.</summary>
    internal Task WhenChanged()
    {
        lock (_gate)
        {
            return _changed.Task;
        }
    }

    private void Set<T>(ref T field, T value)
    {
        lock (_gate)
        {
            field = value;
            SignalLocked();
        }
    }

    private void SignalLocked()
    {
        var previous = _changed;
        _changed = NewSignal();
        previous.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
