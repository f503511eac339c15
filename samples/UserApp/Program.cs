using GrayRelease;
using Microsoft.Extensions.Options;
using UserApp;
using UserApp.Client;

var builder = WebApplication.CreateBuilder(args);
builder.AddGrayRelease().AddNacos();

var app = builder.Build();
app.UseGrayRelease();

app.MapGet("/users/{id:int}", (int id, HttpContext context, IOptionsMonitor<GrayReleaseOptions> gray) =>
    new UserDto(id, $"user-{id}", new ServedBy("user-app", gray.CurrentValue.Version ?? "none", context.Connection.LocalPort, gray.CurrentValue.Lane)));

app.Lifetime.ApplicationStarted.Register(() =>
{
    var options = app.Services.GetRequiredService<IOptionsMonitor<GrayReleaseOptions>>().CurrentValue;
    var lane = options.Lane is { Length: > 0 } name ? $"lane {name}" : "the baseline (no lane)";
    Log.Started(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("UserApp"), options.Version ?? "none", lane, string.Join(", ", app.Urls));
});

app.Run();
