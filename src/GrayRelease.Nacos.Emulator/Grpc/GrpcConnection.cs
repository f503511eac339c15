using System.Collections.Concurrent;
using System.Text.Json;
using Grpc.Core;
using GrayRelease.Nacos.Emulator.Config;
using GrayRelease.Nacos.Emulator.Grpc.Protocol;
using GrayRelease.Nacos.Emulator.Naming;

namespace GrayRelease.Nacos.Emulator.Grpc;

/// <summary>
/// One Nacos connection = one TCP connection (core/remote/grpc/AddressTransportFilter.java), named
/// <c>&lt;epochMillis&gt;_&lt;remoteIp&gt;_&lt;remotePort&gt;</c> when the socket opens. It owns its instances,
/// subscriptions and config listeners; all of them go when the socket closes.
/// </summary>
#pragma warning disable CA1001 // Its token source and lock live as long as the socket; pending users may still touch them after close.
internal sealed class GrpcConnection
#pragma warning restore CA1001
{
    private readonly Action _abortTransport;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> _pending = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _closed = new();
    private IServerStreamWriter<Payload>? _stream;
    private long _lastActiveMillis;
    private int _detecting;
    private bool _registered;

    public GrpcConnection(string id, string remoteIp, int remotePort, long nowMillis, Action abortTransport)
    {
        Id = id;
        RemoteIp = remoteIp;
        RemotePort = remotePort;
        _lastActiveMillis = nowMillis;
        _abortTransport = abortTransport;
    }

    public string Id { get; }

    public string RemoteIp { get; }

    public int RemotePort { get; }

    /// <summary>Guards the maps below.</summary>
    public object Gate { get; } = new();

    /// <summary>Set by ConnectionSetupRequest on the stream: only then are unary calls (but ServerCheck) accepted.</summary>
    public bool Registered => Volatile.Read(ref _registered);

    public IReadOnlyDictionary<string, string> Labels { get; private set; } = new Dictionary<string, string>();

    public string ClientIp { get; private set; } = string.Empty;

    public string ClientVersion { get; private set; } = string.Empty;

    /// <summary>naming/core/v2/client/manager/impl/ConnectionBasedClientManager.java: only these are naming clients.</summary>
    public bool IsNamingClient => Labels.TryGetValue("module", out var module) && string.Equals(module, "naming", StringComparison.Ordinal);

    /// <summary>What the connection published per service (one instance, or a batch's set).</summary>
    public Dictionary<ServiceKey, List<(string Ip, int Port)>> Published { get; } = [];

    /// <summary>Subscriptions: service → clusters as sent; with their push state.</summary>
    public Dictionary<ServiceKey, Subscription> Subscriptions { get; } = [];

    /// <summary>Config listeners: key → (tenant as sent, the server md5 last known to the client).</summary>
    public Dictionary<ConfigKey, ConfigListener> Listeners { get; } = [];

    public CancellationToken Closed => _closed.Token;

    public bool IsClosed => _closed.IsCancellationRequested;

    public long LastActiveMillis => Interlocked.Read(ref _lastActiveMillis);

    public bool HasStream => Volatile.Read(ref _stream) is not null;

    public void Touch(long nowMillis) => Interlocked.Exchange(ref _lastActiveMillis, nowMillis);

    public bool TryStartDetection() => Interlocked.CompareExchange(ref _detecting, 1, 0) == 0;

    public void EndDetection() => Volatile.Write(ref _detecting, 0);

    public void Setup(IReadOnlyDictionary<string, string> labels, string clientIp, string clientVersion)
    {
        Labels = labels;
        ClientIp = clientIp;
        ClientVersion = clientVersion;

        // Written last: unary calls on other threads read the labels once they see it.
        Volatile.Write(ref _registered, true);
    }

    public void AttachStream(IServerStreamWriter<Payload> stream) => Volatile.Write(ref _stream, stream);

    public void DetachStream(IServerStreamWriter<Payload> stream)
    {
        Interlocked.CompareExchange(ref _stream, null, stream);
        foreach (var (_, pending) in _pending)
        {
            pending.TrySetException(new IOException("The stream of connection " + Id + " ended."));
        }
    }

    /// <summary>Writes one message on the stream; stream writes must not overlap.</summary>
    public async Task WriteAsync(Payload payload, CancellationToken cancellationToken)
    {
        var stream = Volatile.Read(ref _stream) ?? throw new IOException("Connection " + Id + " has no stream.");
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await stream.WriteAsync(payload, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Sends a server request and waits for the answer with the same requestId.</summary>
    public async Task<JsonElement> RequestAsync(string type, string requestId, byte[] body, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var answer = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[requestId] = answer;
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Closed);
            await WriteAsync(GrpcJson.ToPayload(type, body), linked.Token).ConfigureAwait(false);
            return await answer.Task.WaitAsync(timeout, linked.Token).ConfigureAwait(false);
        }
        finally
        {
            _pending.TryRemove(requestId, out _);
        }
    }

    /// <summary>An answer from the client on the stream; false when nothing waits for that requestId.</summary>
    public bool Answer(string requestId, JsonElement body) =>
        _pending.TryGetValue(requestId, out var pending) && pending.TrySetResult(body);

    /// <summary>Marks it closed (pending calls and pushes stop) and closes the socket.</summary>
    public void Close()
    {
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        foreach (var (_, pending) in _pending)
        {
            pending.TrySetCanceled();
        }

        _abortTransport();
    }

    /// <summary>One subscription and its push state (only touched under <see cref="Gate"/>).</summary>
    internal sealed class Subscription
    {
        public Subscription(string? clusters) => Clusters = clusters;

        public string? Clusters { get; set; }

        /// <summary>A push is owed (a change, or the first subscription).</summary>
        public bool Pending { get; set; }

        /// <summary>A push task runs for it.</summary>
        public bool Running { get; set; }
    }

    /// <summary>One config listener (only touched under <see cref="Gate"/>).</summary>
    internal sealed class ConfigListener
    {
        public ConfigListener(string? tenantAsSent, string serverMd5)
        {
            TenantAsSent = tenantAsSent;
            ServerMd5 = serverMd5;
        }

        public string? TenantAsSent { get; }

        public string ServerMd5 { get; set; }
    }
}
