using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Yarp.Tests.Infrastructure;

/// <summary>
/// A real Kestrel service on 127.0.0.1 that answers every request with "&lt;version&gt; &lt;port&gt; &lt;gray header&gt; &lt;lane
/// header&gt;", so a test sees which version served it and what the gateway told it. A path ending in <c>/hang</c> never answers (until the caller gives up).
/// </summary>
internal sealed class VersionedBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private VersionedBackend(WebApplication app, string version)
    {
        _app = app;
        Version = version;
    }

    public string Version { get; }

    public Uri Address { get; private set; } = null!;

    public int Port => Address.Port;

    public static async Task<VersionedBackend> StartAsync(string version, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapFallback(async (HttpContext context) =>
        {
            if (context.Request.Path.Value?.EndsWith("/hang", StringComparison.Ordinal) == true)
            {
                var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                using (context.RequestAborted.Register(() => never.TrySetResult()))
                {
                    await never.Task;
                }

                return string.Empty;
            }

            return $"{version} {context.Connection.LocalPort} {context.Request.Headers["gray"]} {context.Request.Headers["gray-lane"]}";
        });
        var backend = new VersionedBackend(app, version);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        backend.Address = new Uri(address);
        return backend;
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(cts.Token);
        await _app.DisposeAsync();
    }
}
