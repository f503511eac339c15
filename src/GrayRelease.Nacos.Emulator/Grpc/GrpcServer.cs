using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GrayRelease.Nacos.Emulator.Grpc;

/// <summary>
/// The gRPC port (main port + 1000): plaintext HTTP/2 only (h2c, like the server's default), its own Kestrel so the
/// HTTP API is not served there and connections can be told apart by socket.
/// </summary>
internal sealed class GrpcServer
{
    // core/remote/grpc/GrpcServerConstants.java: 10 MiB inbound by default.
    private const int MaxInboundMessageSize = 10 * 1024 * 1024;

    private readonly GrpcServerState _state;
    private WebApplication? _app;

    public GrpcServer(GrpcServerState state) => _state = state;

    public int Port { get; private set; }

    public async Task StartAsync(IPAddress address, int port, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(GrpcServer).Assembly.GetName().Name,
        });
        if (_state.Options.GrpcCertificate is not null)
        {
            // UseKestrelCore leaves HTTPS out; UseHttps needs it.
            builder.WebHost.UseKestrelHttpsConfiguration();
        }

        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(address, port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (_state.Options.GrpcCertificate is { } certificate)
                {
                    // NacosEmulatorOptions.GrpcCertificate: h2 over TLS (ALPN), as GrpcSdkServer with enableTls.
                    listen.UseHttps(certificate);
                }

                listen.Use(_state.Connections.Middleware);
            });
        });
        builder.Services.AddLogging();
        builder.Services.AddRoutingCore();
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = MaxInboundMessageSize;
            grpc.MaxSendMessageSize = null;
        });
        builder.Services.AddSingleton(_state);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(2));
        var app = builder.Build();
        app.UseRouting();
        app.MapGrpcService<RequestService>();
        app.MapGrpcService<BiStreamService>();
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        Port = BoundPort(app) ?? port;
        _app = app;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var app = _app;
        if (app is null)
        {
            return;
        }

        _app = null;

        // Long-lived streams would hold a graceful stop: close the sockets first, as a stopping server does.
        _state.Connections.CloseAll();
        try
        {
            await app.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static int? BoundPort(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        foreach (var text in addresses ?? [])
        {
            if (Uri.TryCreate(text, UriKind.Absolute, out var uri))
            {
                return uri.Port;
            }
        }

        return null;
    }
}
