using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace UserApp;

/// <summary>
/// user-app's gRPC service: a second web host in the same process, on its own HTTP/2-only endpoint (<c>Grpc:Url</c>).
/// It registers nothing: the REST host's one registration, <c>user-app</c>, publishes this endpoint's bound port as
/// metadata <c>gRPC_port</c> (<c>nacos:InstanceGrpcPort</c>), and gRPC clients of <c>nacos://user-app</c> dial it.
/// </summary>
/// <remarks>
/// Why its own endpoint: a gRPC client given an <c>http://</c> address speaks HTTP/2 with prior knowledge, and Kestrel
/// (.NET 10) serves only HTTP/1.1 on a cleartext endpoint that allows both protocols (without TLS there is no ALPN to
/// choose by); the REST endpoint must keep HTTP/1.1 for the gateway and the Refit clients.
/// Why a second host rather than a second endpoint of the REST host (<c>ListenOptions.PublishAsNacosGrpcPort()</c>
/// does that): the sample keeps <c>--urls</c> for REST, which Kestrel ignores once endpoints are configured in code.
/// </remarks>
internal static class GrpcHost
{
    public const string UrlKey = "Grpc:Url";

    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        var url = builder.Configuration[UrlKey];
        if (!Uri.TryCreate(url, UriKind.Absolute, out var address) || address.Scheme != Uri.UriSchemeHttp)
        {
            throw new InvalidOperationException($"{UrlKey} must be an http:// address to serve gRPC on (HTTP/2 cleartext), such as http://127.0.0.1:7211; got '{url}'.");
        }

        builder.WebHost.UseUrls(url!);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2));

        // The same configuration as the REST host (version, lane, the Nacos configuration listeners), but no registration
        // of its own: its port travels in user-app's.
        builder.Configuration["nacos:RegisterEnabled"] = "false";

        // Stopped by Program.cs once the REST host has deregistered and drained, not by SIGTERM directly: callers keep
        // dialling this port until they see user-app's instance go.
        builder.Services.AddSingleton<IHostLifetime, ManualLifetime>();

        // The REST host's "Now listening on" line says the process is up (the demo waits for it); the started line of
        // Program.cs names this address too.
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        builder.Services.AddGrpc();
        builder.AddGrayRelease().AddNacos();

        var app = builder.Build();
        app.UseGrayRelease();
        app.MapGrpcService<UsersService>();
        return app;
    }

    /// <summary>The bound port (Grpc:Url may say port 0), known once the host has started.</summary>
    public static int BoundPort(WebApplication grpc) => new Uri(grpc.Urls.First()).Port;

    /// <summary>A host lifetime that listens to no signal: the host stops when told to.</summary>
    private sealed class ManualLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
