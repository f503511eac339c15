using System.Collections.Concurrent;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Nacos.Http;
using GrayRelease.Nacos.Naming;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace GrayRelease.Nacos.Tests;

/// <summary>Shared plumbing: options pointing at emulators, a recording handler, a bounded wait for one task (polling waits: <see cref="GrayRelease.Testing.Eventually"/>).</summary>
internal static class TestSupport
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    public static NacosOptions Options(params NacosEmulator[] servers) => new()
    {
        ServerAddresses = [.. servers.Select(s => s.ServerAddress)],
        SnapshotPath = NewSnapshotPath(),
        DefaultTimeOut = 3000,
    };

    public static string NewSnapshotPath() => Path.Combine(Path.GetTempPath(), "grayrelease-nacos-tests", Guid.NewGuid().ToString("N"));

    public static CancellationTokenSource Timeout() => new(TimeSpan.FromSeconds(30));

    public static async Task<T> WithTimeout<T>(Task<T> task, string what)
    {
        try
        {
            return await task.WaitAsync(Deadline);
        }
        catch (TimeoutException)
        {
            Assert.Fail("Timed out waiting for " + what);
            throw;
        }
    }

    public static (NacosHttpClient Http, NacosNamingClient Naming) Clients(NacosOptions options, ILogger? logger = null, HttpMessageHandler? handler = null, TimeProvider? time = null)
    {
        var http = new NacosHttpClient(options, time ?? TimeProvider.System, logger ?? new FakeLogger(), handler);
        return (http, new NacosNamingClient(http, options));
    }

    /// <summary>All messages of a collector, for "no secret in any log line" checks.</summary>
    public static string AllText(FakeLogCollector collector) =>
        string.Join("\n", collector.GetSnapshot().Select(r => r.Message + " " + r.Exception));
}

/// <summary>Records every request (method, path and query) and every response body passing through it.</summary>
internal sealed class RecordingHandler() : DelegatingHandler(new SocketsHttpHandler())
{
    public ConcurrentQueue<(HttpMethod Method, Uri Uri)> Requests { get; } = new();

    public ConcurrentQueue<string> ResponseBodies { get; } = new();

    public int Count(string pathEnd) => Requests.Count(r => r.Uri.AbsolutePath.EndsWith(pathEnd, StringComparison.Ordinal));

    public int CountTo(int port) => Requests.Count(r => r.Uri.Port == port);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests.Enqueue((request.Method, request.RequestUri!));
        var response = await base.SendAsync(request, cancellationToken);
        if (request.RequestUri!.AbsolutePath.EndsWith("/login", StringComparison.Ordinal))
        {
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            ResponseBodies.Enqueue(await response.Content.ReadAsStringAsync(cancellationToken));
        }

        return response;
    }
}
