using System.Globalization;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Refit;
using UserApp.Client;

namespace GrayRelease.ReliabilityTests.Infrastructure;

/// <summary>How a <see cref="GraySystem"/> is set up.</summary>
internal sealed class SystemOptions
{
    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Information;

    public bool AuthEnabled { get; init; }

    public string UserName { get; init; } = "reliability-ops";

    public string Password { get; init; } = "Pa55-w0rd-never-logged-7781";

    public bool UdpPush { get; init; } = true;

    /// <summary><c>nacos:Transport</c> of every app; null = the default (Auto: gRPC on the emulator's default line).</summary>
    public string? Transport { get; init; }

    /// <summary>The poll period the emulator tells clients (its <c>cacheMillis</c>).</summary>
    public int CacheMillis { get; init; } = 1000;

    /// <summary>False: order-app's raw user-app client does not retry POST (<c>Retry.DisableForUnsafeHttpMethods()</c>).</summary>
    public bool RetryUnsafeMethods { get; init; } = true;

    /// <summary>Overrides the first retry delay of order-app's raw user-app client (the standard handler's is 2 s).</summary>
    public TimeSpan? RawClientRetryDelay { get; init; }

    public string CommonConfig { get; init; } = GraySystem.DefaultCommonConfig;
}

/// <summary>
/// The whole gray system in one process: the Nacos emulator as registry and configuration centre, user-app and
/// order-app instances and YARP gateways, each a real Kestrel host wired through the public APIs as the samples are
/// (<c>AddGrayRelease().AddNacos()</c>, Refit + <c>AddGrayRelease()</c> + <c>AddStandardResilienceHandler()</c>,
/// <c>AddReverseProxy().AddGrayRelease()</c>), with short registry timings.
/// </summary>
internal sealed class GraySystem : IAsyncDisposable
{
    public const string DefaultCommonConfig = """
        GrayRelease:
          ProdVersion: V1
          GrayVersion: V2
          NoInstancePolicy: Fail
        """;

    public const string CommonDataId = "common-config.yaml";
    public const string GatewayOnDataId = "gateway-on.yaml";
    public const string GatewayOffDataId = "gateway-off.yaml";
    public const string GrayHeaderValue = "gray-996";

    private readonly List<AppHost> _hosts = [];
    private readonly string _snapshots = Path.Combine(Path.GetTempPath(), "grayrelease-reliability", Guid.NewGuid().ToString("N"));
    private int _sequence;

    private GraySystem(NacosEmulator emulator, SystemOptions options, LogSink logs)
    {
        Logs = logs;
        Emulator = emulator;
        Options = options;
    }

    public NacosEmulator Emulator { get; }

    public SystemOptions Options { get; }

    public LogSink Logs { get; }

    public IReadOnlyList<AppHost> Hosts
    {
        get
        {
            lock (_hosts)
            {
                return [.. _hosts];
            }
        }
    }

    /// <summary>The gateway's rules as YAML; <paramref name="extra"/> lines go under <c>GrayRelease:Gateway</c> (e.g. <c>IpList: [ ... ]</c>).</summary>
    public static string GatewayConfig(bool enabled, string headerValue = GrayHeaderValue, params string[] extra) => $"""
        GrayRelease:
          Gateway:
            Enabled: {(enabled ? "true" : "false")}
            HeaderName: gray
            HeaderValue: {headerValue}

        """ + string.Concat(extra.Select(line => "    " + line + "\n"));

    public static async Task<GraySystem> StartAsync(SystemOptions? options, CancellationToken cancellationToken)
    {
        options ??= new SystemOptions();
        var logs = new LogSink();
        var emulator = await NacosEmulator.StartAsync(
            new NacosEmulatorOptions
            {
                // The HTTP transport needs a line that still serves the v1 API; gRPC runs on the current one.
                ServerLine = options.Transport == "Http" ? NacosServerLine.Nacos2 : NacosServerLine.Nacos32,
                CacheMillis = options.CacheMillis,
                ClientBeatIntervalMillis = 500,
                HealthCheckInterval = TimeSpan.FromMilliseconds(200),
                PushEnabled = true,
                AuthEnabled = options.AuthEnabled,
                UserName = options.UserName,
                Password = options.Password,
                LoggerFactory = LoggerFactory.Create(b => b.AddProvider(logs.For("nacos")).SetMinimumLevel(options.MinimumLogLevel)),
            },
            cancellationToken);
        var system = new GraySystem(emulator, options, logs);
        emulator.PublishConfig(CommonDataId, "DEFAULT_GROUP", options.CommonConfig, type: "yaml");
        emulator.PublishConfig(GatewayOnDataId, "DEFAULT_GROUP", GatewayConfig(enabled: true), type: "yaml");
        emulator.PublishConfig(GatewayOffDataId, "DEFAULT_GROUP", GatewayConfig(enabled: false), type: "yaml");
        return system;
    }

    /// <summary>Starts the usual set: user-app V1 ×<paramref name="userV1"/>, V2 ×1, order-app V1 and V2, a gateway with the switch on.</summary>
    public async Task<AppHost> StartStandardAsync(CancellationToken cancellationToken, int userV1 = 1)
    {
        for (var i = 0; i < userV1; i++)
        {
            await StartUserAsync("V1", cancellationToken);
        }

        await StartUserAsync("V2", cancellationToken);
        await StartOrderAsync("V1", cancellationToken);
        await StartOrderAsync("V2", cancellationToken);
        await WaitRegisteredAsync("user-app", userV1 + 1, cancellationToken);
        await WaitRegisteredAsync("order-app", 2, cancellationToken);
        return await StartGatewayAsync(GatewayOnDataId, cancellationToken);
    }

    public void Publish(string dataId, string content) => Emulator.PublishConfig(dataId, "DEFAULT_GROUP", content, type: "yaml");

    /// <summary>Starts a user-app instance; <paramref name="settings"/> override its configuration (e.g. its beat interval).</summary>
    public Task<AppHost> StartUserAsync(string version, CancellationToken cancellationToken, IReadOnlyDictionary<string, string?>? settings = null) =>
        StartAsync("user-app", version, builder =>
        {
            if (settings is not null)
            {
                builder.Configuration.AddInMemoryCollection(settings);
            }
        }, (app, counters) =>
        {
            app.UseGrayRelease();
            app.MapGet("/users/{id:int}", (int id, HttpContext context, IOptionsMonitor<GrayReleaseOptions> gray) =>
            {
                counters.Get();
                return new UserDto(id, $"user-{id}", new ServedBy("user-app", gray.CurrentValue.Version ?? "none", context.Connection.LocalPort, gray.CurrentValue.Lane));
            });

            // Counts every attempt, then fails the way a crashing instance does: the connection is cut mid-request.
            app.MapPost("/users/{id:int}/visits", (int id, HttpContext context) =>
            {
                counters.Post();
                context.Abort();
                return Results.Empty;
            });
        }, cancellationToken);

    /// <summary>Starts an order-app instance; <paramref name="settings"/> override its configuration (e.g. its lane).</summary>
    public Task<AppHost> StartOrderAsync(string version, CancellationToken cancellationToken, IReadOnlyDictionary<string, string?>? settings = null) =>
        StartAsync("order-app", version, builder =>
        {
            if (settings is not null)
            {
                builder.Configuration.AddInMemoryCollection(settings);
            }

            builder.Services.AddRefitGeneratedClient<IUserApi>()
                .ConfigureHttpClient(client => client.BaseAddress = new Uri("http://user-app"))
                .AddGrayRelease()
                .AddStandardResilienceHandler();

            var raw = builder.Services.AddHttpClient("user-app", client => client.BaseAddress = new Uri("http://user-app")).AddGrayRelease();
            raw.AddStandardResilienceHandler(o =>
            {
                if (!Options.RetryUnsafeMethods)
                {
                    o.Retry.DisableForUnsafeHttpMethods();
                }

                if (Options.RawClientRetryDelay is { } delay)
                {
                    o.Retry.Delay = delay;
                }
            });
        }, (app, counters) =>
        {
            app.UseGrayRelease();
            app.MapGet("/orders/{id:int}", async (int id, HttpContext context, IUserApi users, IOptionsMonitor<GrayReleaseOptions> gray) =>
            {
                counters.Get();
                var user = await users.GetUserAsync(id, context.RequestAborted);
                return new OrderReply(id, new ServedBy("order-app", gray.CurrentValue.Version ?? "none", context.Connection.LocalPort, gray.CurrentValue.Lane), user);
            });

            app.MapPost("/orders/{id:int}/visits", async (int id, HttpContext context, IHttpClientFactory clients) =>
            {
                counters.Post();
                try
                {
                    using var response = await clients.CreateClient("user-app").PostAsync($"/users/{id}/visits", null, context.RequestAborted);
                    return Results.StatusCode((int)response.StatusCode);
                }
                catch (HttpRequestException)
                {
                    return Results.StatusCode(StatusCodes.Status502BadGateway);
                }
            });
        }, cancellationToken);

    public Task<AppHost> StartGatewayAsync(string gatewayDataId, CancellationToken cancellationToken) =>
        StartAsync("gateway-app", version: null, builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["nacos:Listeners:1:DataId"] = gatewayDataId,
                ["ReverseProxy:Routes:order:ClusterId"] = "order-app",
                ["ReverseProxy:Routes:order:Match:Path"] = "/order/{**rest}",
                ["ReverseProxy:Routes:order:Transforms:0:PathRemovePrefix"] = "/order",
                ["ReverseProxy:Routes:user:ClusterId"] = "user-app",
                ["ReverseProxy:Routes:user:Match:Path"] = "/user/{**rest}",
                ["ReverseProxy:Routes:user:Transforms:0:PathRemovePrefix"] = "/user",
                ["ReverseProxy:Clusters:order-app:LoadBalancingPolicy"] = "GrayRoundRobin",
                ["ReverseProxy:Clusters:order-app:Destinations:nacos:Address"] = "http://order-app",
                ["ReverseProxy:Clusters:order-app:Destinations:nacos:Metadata:GrayRelease.Service"] = "order-app",
                ["ReverseProxy:Clusters:user-app:LoadBalancingPolicy"] = "GrayRoundRobin",
                ["ReverseProxy:Clusters:user-app:Destinations:nacos:Address"] = "http://user-app",
                ["ReverseProxy:Clusters:user-app:Destinations:nacos:Metadata:GrayRelease.Service"] = "user-app",
            });
        }, (app, counters) => { }, cancellationToken, isGateway: true);

    /// <summary>Waits until the registry holds <paramref name="count"/> healthy instances of <paramref name="service"/>.</summary>
    public Task WaitRegisteredAsync(string service, int count, CancellationToken cancellationToken) =>
        Eventually.WaitUntilAsync(() => Emulator.GetInstances(service).Count(i => i.Healthy && i.Enabled) == count, $"{count} healthy {service} instance(s) are registered", cancellationToken: cancellationToken);

    public static HttpClient ClientFor(AppHost host) => new(new SocketsHttpHandler
    {
        // Garbage tests send raw bytes; everything else is plain ASCII either way.
        RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    })
    {
        BaseAddress = host.Address,
        Timeout = TimeSpan.FromSeconds(60),
    };

    public async ValueTask DisposeAsync()
    {
        foreach (var host in Enumerable.Reverse(Hosts))
        {
            await host.DisposeAsync();
        }

        await Emulator.DisposeAsync();
        try
        {
            Directory.Delete(_snapshots, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    // Internal for the gRPC scenarios (GrpcHosts), which wire their own services on the same registry settings.
    internal async Task<AppHost> StartAsync(
        string service,
        string? version,
        Action<WebApplicationBuilder> configure,
        Action<WebApplication, HostCounters> map,
        CancellationToken cancellationToken,
        bool isGateway = false)
    {
        var name = $"{service}-{version ?? "gw"}-{Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture)}";
        var settings = new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = Options.MinimumLogLevel.ToString(),
            ["nacos:ServerAddresses:0"] = Emulator.ServerAddress,
            ["nacos:ServiceName"] = service,
            ["nacos:SnapshotPath"] = Path.Combine(_snapshots, name),
            ["nacos:DefaultTimeOut"] = "3000",
            ["nacos:ListenInterval"] = "200",
            ["nacos:DrainDelay"] = "00:00:01",
            ["nacos:UdpPushEnabled"] = Options.UdpPush ? "true" : "false",
            ["nacos:Metadata:preserved.heart.beat.interval"] = "500",
            ["nacos:Metadata:preserved.heart.beat.timeout"] = "3000",
            ["nacos:Metadata:preserved.ip.delete.timeout"] = "6000",
            ["nacos:Listeners:0:DataId"] = CommonDataId,
        };
        if (version is not null)
        {
            settings["GrayRelease:Version"] = version;
        }

        if (Options.Transport is not null)
        {
            settings["nacos:Transport"] = Options.Transport;
        }

        if (Options.AuthEnabled)
        {
            settings["nacos:UserName"] = Options.UserName;
            settings["nacos:Password"] = Options.Password;
        }

        var host = await AppHost.StartAsync(name, service, version, builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(Logs.For(name));
            builder.Logging.SetMinimumLevel(Options.MinimumLogLevel);
            configure(builder);
            builder.AddGrayRelease().AddNacos();
            if (isGateway)
            {
                builder.Services.AddReverseProxy()
                    .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
                    .AddGrayRelease();
            }
        }, (app, counters) =>
        {
            if (isGateway)
            {
                app.MapReverseProxy(proxy => proxy.UseGrayRouting());
            }

            map(app, counters);
        }, cancellationToken);

        lock (_hosts)
        {
            _hosts.Add(host);
        }

        return host;
    }
}

/// <summary>order-app's answer: which order-app instance served, and the user it got from user-app.</summary>
internal sealed record OrderReply(int Id, ServedBy ServedBy, UserDto User);
