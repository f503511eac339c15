using System.Net;
using System.Net.Sockets;

namespace GrayRelease.SystemBenchmarks;

/// <summary>
/// A loopback TCP forwarder in front of one emulator port that counts the bytes in each direction and the connections
/// accepted, so the client's traffic is measured on the wire without touching the client.
/// </summary>
internal sealed class CountingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private long _sent;
    private long _received;
    private int _connections;

    private CountingProxy(int target)
    {
        _target = target;
        _listener.Start();
        using (ExecutionContext.SuppressFlow())
        {
            _accepting = Task.Run(AcceptAsync);
        }
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Client → server plus server → client bytes so far.</summary>
    public long Bytes => Interlocked.Read(ref _sent) + Interlocked.Read(ref _received);

    public int Connections => Volatile.Read(ref _connections);

    public static CountingProxy Start(int target) => new(target);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _connections);
                _ = PipeAsync(client);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException)
            {
                // The listener was stopped, or a connection failed before it was accepted: go on until stopped.
            }
        }
    }

    private async Task PipeAsync(TcpClient client)
    {
        using var upstream = new TcpClient();
        using (client)
        {
            try
            {
                client.NoDelay = true;
                upstream.NoDelay = true;
                await upstream.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
                var a = client.GetStream();
                var b = upstream.GetStream();
                await Task.WhenAny(CopyAsync(a, b, isSent: true), CopyAsync(b, a, isSent: false));
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
                // A closed connection ends its pipe.
            }
            finally
            {
                Interlocked.Decrement(ref _connections);
            }
        }
    }

    private async Task CopyAsync(Stream from, Stream to, bool isSent)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                Interlocked.Add(ref isSent ? ref _sent : ref _received, read);
                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Either side closed.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
