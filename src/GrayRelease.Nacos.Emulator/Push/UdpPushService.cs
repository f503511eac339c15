using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using GrayRelease.Nacos.Emulator.Diagnostics;
using GrayRelease.Nacos.Emulator.Http;
using GrayRelease.Nacos.Emulator.Naming;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Emulator.Push;

/// <summary>
/// The 1.x UDP push of the real server (<c>UdpPushService</c> / <c>UdpConnector</c>): a list call with a
/// <c>udpPort</c> subscribes the caller; every change of the service is sent as a <c>dom</c> datagram (gzip from
/// 1 KiB), resent once when no ack arrives within the ack timeout. An ack counts only from the address and port the push
/// went to.
/// </summary>
internal sealed class UdpPushService : IDisposable
{
    private const int CompressThreshold = 1024;
    private const int MaxSends = 2;

    // One subscription per cluster view, like 1.x servers: a client that lists "" and "DEFAULT" caches both.
    private readonly ConcurrentDictionary<(ServiceKey Service, IPEndPoint Target, string Clusters), Subscription> _subscriptions = new();
    private readonly ConcurrentDictionary<string, PendingPush> _pending = new(StringComparer.Ordinal);
    private readonly NamingStore _store;
    private readonly NacosEmulatorOptions _options;
    private readonly ILogger _logger;
    private readonly object _socketGate = new();
    private Socket? _socket;
    private CancellationTokenSource? _receiveCancellation;
    private readonly long _startTimestamp;
    private long _lastRefTime;
    private long _pushesSent;
    private long _acksReceived;
    private long _unmatchedPackets;

    public UdpPushService(NamingStore store, NacosEmulatorOptions options, ILogger logger)
    {
        _store = store;
        _options = options;
        _logger = logger;
        _startTimestamp = options.TimeProvider.GetTimestamp();
    }

    public long PushesSent => Interlocked.Read(ref _pushesSent);

    public long AcksReceived => Interlocked.Read(ref _acksReceived);

    public int SubscriptionCount => _subscriptions.Count;

    /// <summary>Datagrams that acknowledged no pending push (foreign, late, duplicate or malformed).</summary>
    public long UnmatchedPackets => Interlocked.Read(ref _unmatchedPackets);

    /// <summary>Where pushes go (for tests).</summary>
    public IReadOnlyList<IPEndPoint> SubscriberTargets => [.. _subscriptions.Keys.Select(key => key.Target)];

    public void Start(IPAddress bindAddress)
    {
        var socket = new Socket(bindAddress.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(bindAddress, 0));
        var cancellation = new CancellationTokenSource();
        lock (_socketGate)
        {
            _socket = socket;
            _receiveCancellation = cancellation;
        }

        // The receiver lives as long as the socket: it must not keep the caller's execution context (Activity, scopes).
        using (ExecutionContext.SuppressFlow())
        {
            _ = Task.Run(() => ReceiveAcksAsync(socket, cancellation.Token), CancellationToken.None);
        }
    }

    /// <summary>Closes the socket; subscriptions and unacknowledged pushes are forgotten, as in a restart.</summary>
    public void Stop()
    {
        Socket? socket;
        CancellationTokenSource? cancellation;
        lock (_socketGate)
        {
            socket = _socket;
            cancellation = _receiveCancellation;
            _socket = null;
            _receiveCancellation = null;
        }

        cancellation?.Cancel();
        socket?.Dispose();
        cancellation?.Dispose();
        _subscriptions.Clear();
        foreach (var key in _pending.Keys)
        {
            if (_pending.TryRemove(key, out var pending))
            {
                pending.Timer?.Dispose();
            }
        }
    }

    public void Dispose() => Stop();

    /// <summary>
    /// Subscribes <paramref name="target"/> to changes of the service, or renews its subscription; the caller
    /// has already checked the agent and that the target is the caller itself or loopback.
    /// </summary>
    public void Subscribe(ServiceKey service, IPEndPoint target, string clusters, string agent)
    {
        var now = _options.TimeProvider.GetUtcNow();
        var added = false;
        _subscriptions.AddOrUpdate(
            (service, target, clusters),
            _ =>
            {
                added = true;
                return new Subscription(now);
            },
            (_, _) => new Subscription(now));
        if (added)
        {
            Log.Subscribed(_logger, service.GroupedName, target.ToString(), agent);
        }
    }

    public void ExpireSubscriptions()
    {
        var now = _options.TimeProvider.GetUtcNow();
        foreach (var (key, subscription) in _subscriptions)
        {
            if (now - subscription.LastSeen > _options.PushSubscriptionTimeout
                && _subscriptions.TryRemove(new KeyValuePair<(ServiceKey, IPEndPoint, string), Subscription>(key, subscription)))
            {
                Log.SubscriptionExpired(_logger, key.Service.GroupedName, key.Target.ToString());
            }
        }
    }

    public void OnServiceChanged(ServiceKey service)
    {
        Socket? socket;
        lock (_socketGate)
        {
            socket = _socket;
        }

        if (socket is null)
        {
            return;
        }

        foreach (var key in _subscriptions.Keys)
        {
            if (key.Service == service)
            {
                Push(socket, key.Service, key.Target, key.Clusters);
            }
        }
    }

    /// <summary>The datagram for one subscriber (internal so tests can compare shapes without a socket).</summary>
    internal (byte[] Payload, long LastRefTime) BuildDatagram(ServiceKey service, string clusters)
    {
        var hosts = _store.Select(service, clusters, healthyOnly: false);
        var nowMillis = _options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        // push/v2/executor/PushExecutorUdpImpl.replaceServiceInfoName copies name (grouped), clusters, hosts,
        // lastRefTime and cacheMillis into a new ServiceInfo: no groupName, which JacksonUtils (NON_NULL) leaves out.
        var listAnswer = JsonOutput.ToBytes(writer =>
            InstanceListWriter.WriteServiceInfo(writer, service, clusters, hosts, _options, nowMillis, includeGroupName: false));
        var lastRefTime = NextLastRefTime();
        var datagram = JsonOutput.ToBytes(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("type", "dom");
            writer.WriteNumber("lastRefTime", lastRefTime);
            writer.WriteString("data", System.Text.Encoding.UTF8.GetString(listAnswer));
            writer.WriteEndObject();
        });
        return (datagram.Length < CompressThreshold ? datagram : Gzip(datagram), lastRefTime);
    }

    private void Push(Socket socket, ServiceKey service, IPEndPoint target, string clusters)
    {
        var (payload, lastRefTime) = BuildDatagram(service, clusters);
        var pending = new PendingPush(AckKey(target, lastRefTime), service, target, clusters, payload);

        // A newer push supersedes an unacknowledged older one: resending stale data would only confuse clients.
        foreach (var (key, older) in _pending)
        {
            if (older.Service == service && older.Target.Equals(target) && string.Equals(older.Clusters, clusters, StringComparison.Ordinal) && _pending.TryRemove(new KeyValuePair<string, PendingPush>(key, older)))
            {
                older.Timer?.Dispose();
            }
        }

        _pending[pending.Key] = pending;
        Send(socket, pending);
    }

    private void Send(Socket socket, PendingPush pending)
    {
        pending.Sends++;
        try
        {
            socket.SendTo(pending.Payload, pending.Target);
            Interlocked.Increment(ref _pushesSent);
            Log.PushSent(_logger, pending.Service.GroupedName, pending.Target.ToString(), pending.Payload.Length, pending.Sends);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            Log.PushFailed(_logger, pending.Service.GroupedName, pending.Target.ToString(), exception);
            _pending.TryRemove(pending.Key, out _);
            return;
        }

        pending.Timer?.Dispose();
        pending.Timer = _options.TimeProvider.CreateTimer(
            static state => ((PendingPushTimerState)state!).Owner.OnAckTimeout(((PendingPushTimerState)state).Push),
            new PendingPushTimerState(this, pending),
            _options.PushAckTimeout,
            Timeout.InfiniteTimeSpan);
    }

    private void OnAckTimeout(PendingPush pending)
    {
        if (!_pending.ContainsKey(pending.Key))
        {
            return;
        }

        if (pending.Sends >= MaxSends)
        {
            _pending.TryRemove(pending.Key, out _);
            pending.Timer?.Dispose();
            Log.PushNotAcknowledged(_logger, pending.Service.GroupedName, pending.Target.ToString(), pending.Sends);
            return;
        }

        Socket? socket;
        lock (_socketGate)
        {
            socket = _socket;
        }

        if (socket is not null)
        {
            Send(socket, pending);
        }
    }

    private async Task ReceiveAcksAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        EndPoint any = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!cancellationToken.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException exception) when (exception.SocketErrorCode == SocketError.ConnectionReset)
            {
                // ICMP "port unreachable" from a subscriber that went away surfaces here on some platforms.
                continue;
            }
            catch (SocketException exception)
            {
                Log.AckReceiverFailed(_logger, exception);
                return;
            }

            try
            {
                HandleAck(buffer.AsSpan(0, received.ReceivedBytes), (IPEndPoint)received.RemoteEndPoint);
            }
#pragma warning disable CA1031 // No datagram may end the ack receiver.
            catch (Exception)
#pragma warning restore CA1031
            {
                Interlocked.Increment(ref _unmatchedPackets);
                Log.UnexpectedUdpPacket(_logger, received.RemoteEndPoint.ToString() ?? "(unknown)", "(unreadable)");
            }
        }
    }

    private void HandleAck(ReadOnlySpan<byte> packet, IPEndPoint sender)
    {
        string? type = null;
        long lastRefTime = 0;
        try
        {
            var reader = new Utf8JsonReader(packet);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.TryGetProperty("type", out var typeElement) && typeElement.ValueKind == JsonValueKind.String)
            {
                type = typeElement.GetString();
            }

            // AckPacket.lastRefTime is a long read by Jackson, which also takes the string form ("123").
            if (root.TryGetProperty("lastRefTime", out var refElement))
            {
                _ = refElement.ValueKind switch
                {
                    JsonValueKind.Number => refElement.TryGetInt64(out lastRefTime),
                    JsonValueKind.String => long.TryParse(refElement.GetString(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out lastRefTime),
                    _ => false,
                };
            }
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            // Not JSON, or a string that is not UTF-8: an unexpected packet, like any other.
        }

        if (!string.Equals(type, "push-ack", StringComparison.Ordinal)
            || !_pending.TryRemove(AckKey(sender, lastRefTime), out var pending))
        {
            Interlocked.Increment(ref _unmatchedPackets);
            Log.UnexpectedUdpPacket(_logger, sender.ToString(), type ?? "(none)");
            return;
        }

        pending.Timer?.Dispose();
        Interlocked.Increment(ref _acksReceived);
        Log.PushAcknowledged(_logger, pending.Service.GroupedName, sender.ToString());
    }

    private long NextLastRefTime()
    {
        // Like the real server's System.nanoTime(): a monotonic count of nanoseconds, small enough for clients
        // that parse JSON numbers as doubles (JavaScript) to echo it exactly in their ack.
        var candidate = (long)(_options.TimeProvider.GetElapsedTime(_startTimestamp).TotalMilliseconds * 1_000_000) + 1_000_000_000;
        while (true)
        {
            var previous = Interlocked.Read(ref _lastRefTime);
            var next = Math.Max(previous + 1, candidate);
            if (Interlocked.CompareExchange(ref _lastRefTime, next, previous) == previous)
            {
                return next;
            }
        }
    }

    /// <summary>
    /// As <c>naming/.../remote/udp/AckEntry.getAckKey(host, port, lastRefTime)</c>: the ack must come from the address
    /// and port the push went to (<c>UdpConnector</c> builds the key from the ack's sender).
    /// </summary>
    private static string AckKey(IPEndPoint target, long lastRefTime) =>
        Normalize(target.Address) + "," + target.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) + ","
        + lastRefTime.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Normalize(IPAddress address) => (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    private sealed record Subscription(DateTimeOffset LastSeen);

    private sealed class PendingPush(string key, ServiceKey service, IPEndPoint target, string clusters, byte[] payload)
    {
        public string Clusters { get; } = clusters;

        public string Key { get; } = key;

        public ServiceKey Service { get; } = service;

        public IPEndPoint Target { get; } = target;

        public byte[] Payload { get; } = payload;

        public int Sends { get; set; }

        public ITimer? Timer { get; set; }
    }

    private sealed record PendingPushTimerState(UdpPushService Owner, PendingPush Push);
}
