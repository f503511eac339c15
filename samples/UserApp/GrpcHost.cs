using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace UserApp;

/// <summary>
/// user-app's gRPC service: a second web host in the same process, on its own HTTP/2-only endpoint (<c>Grpc:Url</c>),
/// registered in Nacos as a second service, <c>user-app-grpc</c>, with the same version and lane metadata.
/// </summary>
/// <remarks>
/// Why its own endpoint: a gRPC client given an <c>http://</c> address speaks HTTP/2 with prior knowledge, and Kestrel
/// (.NET 10) serves only HTTP/1.1 on a cleartext endpoint that allows both protocols (without TLS there is no ALPN to
/// choose by); the REST endpoint must keep HTTP/1.1 for the gateway and the Refit clients.
/// Why a second service: a Nacos instance has one port, and the gRPC resolver dials the registered one. A second
/// host is the only way to register a second service with this package, and it needs nothing on the caller's side:
/// order-app addresses <c>nacos://user-app-grpc</c>.
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

        // Same configuration as the REST host (version, lane, Nacos server), another service name.
        var serviceName = builder.Configuration["nacos:ServiceName"] is { Length: > 0 } name ? name : builder.Environment.ApplicationName;
        builder.Configuration["nacos:ServiceName"] = serviceName + "-grpc";

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
}
