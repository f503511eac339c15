using GrayRelease.Samples;
using GrayRelease;
using Microsoft.Extensions.Options;
using UserApp;
using UserApp.Client;

var builder = WebApplication.CreateBuilder(args);
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

// The gRPC service (GetUser) on its own HTTP/2 endpoint, registered as user-app-grpc: see GrpcHost. Started first, so a
// bad Grpc:Url or a taken port ends the process before the REST host says it listens.
await using var grpc = GrpcHost.Build(args);
await grpc.StartAsync();

// One process, two hosts: whichever is asked to stop (SIGTERM reaches both) stops the other, and both deregister and
// drain at the same time.
var grpcStopped = Task.CompletedTask;
app.Lifetime.ApplicationStopping.Register(() => grpcStopped = grpc.StopAsync());
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
await grpcStopped;
