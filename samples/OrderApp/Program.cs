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
    return new OrderDto(id, new ServedBy("order-app", gray.CurrentValue.Version ?? "none", context.Connection.LocalPort), user);
});

app.Run();
