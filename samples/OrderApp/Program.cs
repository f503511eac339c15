using GrayRelease.Samples;
using GrayRelease;
using Microsoft.Extensions.Options;
using OrderApp;
using Refit;
using UserApp.Client;

var builder = WebApplication.CreateBuilder(args);
builder.AddGrayRelease().AddNacos();

builder.Services.AddRefitGeneratedClient<IUserApi>()
    .ConfigureHttpClient(client => client.BaseAddress = new Uri("http://user-app"))
    .AddGrayRelease()
    .AddStandardResilienceHandler();

var app = builder.Build();
app.UseGrayRelease();

app.MapGet("/orders/{id:int}", async (int id, HttpContext context, IUserApi users, IOptionsMonitor<GrayReleaseOptions> gray) =>
{
    var user = await users.GetUserAsync(id, context.RequestAborted);
    return new OrderDto(id, new ServedBy("order-app", gray.CurrentValue.Version ?? "none", context.Connection.LocalPort, gray.CurrentValue.Lane), user);
});

app.Lifetime.ApplicationStarted.Register(() =>
{
    var options = app.Services.GetRequiredService<IOptionsMonitor<GrayReleaseOptions>>().CurrentValue;
    var lane = options.Lane is { Length: > 0 } name ? $"lane {name}" : "the baseline (no lane)";
    Log.Started(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("OrderApp"), options.Version ?? "none", lane, string.Join(", ", app.Urls));
});

app.MapSoakDiagnostics();
app.Run();
