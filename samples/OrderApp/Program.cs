using GrayRelease.Samples;
using Grpc.Core;
using Grpc.Net.Client.Configuration;
using GrayRelease;
using Microsoft.Extensions.Options;
using OrderApp;
using Refit;
using UserApp.Client;
using UserApp.Grpc;

var builder = WebApplication.CreateBuilder(args);
builder.AddGrayRelease().AddNacos();

builder.Services.AddRefitGeneratedClient<IUserApi>()
    .ConfigureHttpClient(client => client.BaseAddress = new Uri("http://user-app"))
    .AddGrayRelease()
    .AddStandardResilienceHandler();

// The same user-app over gRPC: the same registration, dialled on the port of its gRPC_port metadata (see
// UserApp/GrpcHost.cs). Each call, and each retry attempt, picks an instance of the version and lane the request wants.
builder.Services.AddGrpcClient<Users.UsersClient>(options => options.Address = new Uri("nacos://user-app"))
    .AddGrayReleaseGrpc()
    .ConfigureChannel(channel => channel.ServiceConfig = new ServiceConfig
    {
        MethodConfigs =
        {
            new MethodConfig
            {
                Names = { MethodName.Default },
                RetryPolicy = new RetryPolicy
                {
                    MaxAttempts = 3,
                    InitialBackoff = TimeSpan.FromMilliseconds(100),
                    MaxBackoff = TimeSpan.FromSeconds(1),
                    BackoffMultiplier = 2,
                    RetryableStatusCodes = { StatusCode.Unavailable },
                },
            },
        },
    });

var app = builder.Build();
app.UseGrayRelease();

app.MapGet("/orders/{id:int}", async (int id, HttpContext context, IUserApi users, IOptionsMonitor<GrayReleaseOptions> gray) =>
{
    var user = await users.GetUserAsync(id, context.RequestAborted);
    return new OrderDto(id, Self(context, gray), user);
});

// A call that finds no instance of the wanted version or lane fails with UNAVAILABLE, and UseGrayRelease() answers it
// with the 503 problem of the REST path (the channel's explanation as detail): nothing to catch here.
app.MapGet("/orders/{id:int}/grpc", async (int id, HttpContext context, Users.UsersClient users, IOptionsMonitor<GrayReleaseOptions> gray) =>
{
    var reply = await users.GetUserAsync(new GetUserRequest { Id = id }, deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: context.RequestAborted);
    var servedBy = new ServedBy(reply.Service, reply.Version, reply.Port, reply.Lane.Length > 0 ? reply.Lane : null);
    return Results.Ok(new OrderDto(id, Self(context, gray), new UserDto(reply.Id, reply.Name, servedBy)));
});

app.Lifetime.ApplicationStarted.Register(() =>
{
    var options = app.Services.GetRequiredService<IOptionsMonitor<GrayReleaseOptions>>().CurrentValue;
    var lane = options.Lane is { Length: > 0 } name ? $"lane {name}" : "the baseline (no lane)";
    Log.Started(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("OrderApp"), options.Version ?? "none", lane, string.Join(", ", app.Urls));
});

app.MapSoakDiagnostics();
app.Run();

static ServedBy Self(HttpContext context, IOptionsMonitor<GrayReleaseOptions> gray) =>
    new("order-app", gray.CurrentValue.Version ?? "none", context.Connection.LocalPort, gray.CurrentValue.Lane);
