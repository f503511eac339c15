using GrayRelease.Samples;
using GrayRelease;
using Microsoft.Extensions.Options;
using UserApp;
using UserApp.Client;

// The gRPC service (GetUser) on its own HTTP/2 endpoint: see GrpcHost. Started first, so that its bound port (Grpc:Url
// may say port 0) is known to the registration, and a bad Grpc:Url or a taken port ends the process before the REST host
// says it listens.
await using var grpc = GrpcHost.Build(args);
await grpc.StartAsync();

var builder = WebApplication.CreateBuilder(args);

// ONE registration, user-app, for REST and gRPC: the registered port is the REST one, the gRPC port travels as metadata
// gRPC_port (grpc-spring's convention), which the gRPC resolver of nacos://user-app dials.
builder.Configuration["nacos:InstanceGrpcPort"] = GrpcHost.BoundPort(grpc).ToString(System.Globalization.CultureInfo.InvariantCulture);
builder.AddGrayRelease().AddNacos();
var faults = DemoFaults.Read(builder.Configuration);

var app = builder.Build();
app.UseGrayRelease();

app.MapGet("/users/{id:int}", async (int id, HttpContext context, IOptionsMonitor<GrayReleaseOptions> gray) =>
{
    if (faults.ExtraLatencyMs > 0)
    {
        await Task.Delay(faults.ExtraLatencyMs, context.RequestAborted);
    }

    // Random.Shared, not a seeded generator: the demo wants independent failures, as a real defect would cause.
#pragma warning disable CA5394 // Not security-relevant: a demo's fault injection.
    if (faults.FailureRate > 0 && Random.Shared.NextDouble() < faults.FailureRate)
#pragma warning restore CA5394
    {
        return Results.Problem(statusCode: StatusCodes.Status500InternalServerError, title: "Demo fault", detail: "Failed on purpose (demo switch Demo:FailureRate).");
    }

    return Results.Ok(new UserDto(id, $"user-{id}", new ServedBy("user-app", gray.CurrentValue.Version ?? "none", context.Connection.LocalPort, gray.CurrentValue.Lane)));
});

// One process, two hosts, one registration: SIGTERM stops the REST host, which deregisters user-app and drains while
// both endpoints still serve; the gRPC host stops after it (below). Should the gRPC host stop by itself, the REST host
// follows, so the registration never outlives the gRPC endpoint it names.
grpc.Lifetime.ApplicationStopping.Register(app.Lifetime.StopApplication);

app.Lifetime.ApplicationStarted.Register(() =>
{
    var options = app.Services.GetRequiredService<IOptionsMonitor<GrayReleaseOptions>>().CurrentValue;
    var lane = options.Lane is { Length: > 0 } name ? $"lane {name}" : "the baseline (no lane)";
    var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("UserApp");
    Log.Started(logger, options.Version ?? "none", lane, string.Join(", ", app.Urls), string.Join(", ", grpc.Urls));
    if (faults.Any)
    {
        Log.DemoFaults(logger, faults.FailureRate, faults.ExtraLatencyMs);
    }
});

app.MapSoakDiagnostics();
await app.RunAsync();
await grpc.StopAsync();
