using GrayRelease;
using Microsoft.Extensions.Options;
using UserApp.Client;

var builder = WebApplication.CreateBuilder(args);
builder.AddGrayRelease().AddNacos();

var app = builder.Build();
app.UseGrayRelease();

app.MapGet("/users/{id:int}", (int id, HttpContext context, IOptionsMonitor<GrayReleaseOptions> gray) =>
    new UserDto(id, $"user-{id}", new ServedBy("user-app", gray.CurrentValue.Version ?? "none", context.Connection.LocalPort)));

app.Run();
