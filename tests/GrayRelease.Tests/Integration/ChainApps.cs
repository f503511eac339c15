using System.Globalization;
using GrayRelease.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Refit;

namespace GrayRelease.Tests.Integration;

public sealed record ServedBy(string Service, string Version, int Port);

public sealed record UserDto(int Id, string Name, ServedBy ServedBy, string? GrayHeader);

public sealed record OrderDto(int Id, ServedBy ServedBy, UserDto User);

public interface IUserApi
{
    [Get("/users/{id}")]
    Task<UserDto> GetUserAsync(int id, CancellationToken cancellationToken = default);
}

/// <summary>order-app and user-app as the samples build them, wired only through the public API.</summary>
internal static class ChainApps
{
    public static Task<LoopbackApp> StartUserAppAsync(string version) => LoopbackApp.StartAsync(
        builder => builder.Services.AddGrayRelease(builder.Configuration),
        app =>
        {
            app.UseGrayRelease();
            app.MapGet("/users/{id:int}", (int id, HttpContext context) => new UserDto(
                id,
                $"user-{id}",
                new ServedBy("user-app", version, context.Connection.LocalPort),
                context.Request.Headers["gray"].ToString()));
        },
        new Dictionary<string, string?> { ["GrayRelease:Version"] = version });

    /// <summary>Starts an order-app that calls user-app through Refit by service name.</summary>
    /// <param name="resilienceFirst">Whether the resilience handler is added before AddGrayRelease() (order must not matter).</param>
    public static Task<LoopbackApp> StartOrderAppAsync(string version, IEnumerable<(string Version, Uri Address)> userInstances, bool resilienceFirst = false)
    {
        var settings = new Dictionary<string, string?>
        {
            ["GrayRelease:Version"] = version,
            ["GrayRelease:ProdVersion"] = "V1",
            ["GrayRelease:GrayVersion"] = "V2",
        };
        var index = 0;
        foreach (var (instanceVersion, address) in userInstances)
        {
            settings[$"GrayRelease:Instances:user-app:{index}:Address"] = address.GetLeftPart(UriPartial.Authority);
            settings[$"GrayRelease:Instances:user-app:{index}:Version"] = instanceVersion;
            index++;
        }

        return LoopbackApp.StartAsync(
            builder =>
            {
                builder.Services.AddGrayRelease(builder.Configuration);
                var client = builder.Services
                    .AddRefitGeneratedClient<IUserApi>()
                    .ConfigureHttpClient(http => http.BaseAddress = new Uri("http://user-app"));
                if (resilienceFirst)
                {
                    AddFastRetries(client);
                    client.AddGrayRelease();
                }
                else
                {
                    client.AddGrayRelease();
                    AddFastRetries(client);
                }
            },
            app =>
            {
                app.UseGrayRelease();
                app.MapGet("/orders/{id:int}", async (int id, HttpContext context, IUserApi users) =>
                {
                    var user = await users.GetUserAsync(id, context.RequestAborted);
                    return new OrderDto(id, new ServedBy("order-app", version, context.Connection.LocalPort), user);
                });
            },
            settings);
    }

    public static Dictionary<string, string?> InstanceSettings(string service, IEnumerable<(string Version, Uri Address)> instances)
    {
        var settings = new Dictionary<string, string?>
        {
            ["GrayRelease:ProdVersion"] = "V1",
            ["GrayRelease:GrayVersion"] = "V2",
        };
        var index = 0;
        foreach (var (version, address) in instances)
        {
            settings[$"GrayRelease:Instances:{service}:{index.ToString(CultureInfo.InvariantCulture)}:Address"] = address.GetLeftPart(UriPartial.Authority);
            settings[$"GrayRelease:Instances:{service}:{index.ToString(CultureInfo.InvariantCulture)}:Version"] = version;
            index++;
        }

        return settings;
    }

    private static void AddFastRetries(IHttpClientBuilder client) => client.AddStandardResilienceHandler(options =>
    {
        options.Retry.MaxRetryAttempts = 3;
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.Retry.UseJitter = false;
        options.Retry.BackoffType = Polly.DelayBackoffType.Constant;
    });
}
