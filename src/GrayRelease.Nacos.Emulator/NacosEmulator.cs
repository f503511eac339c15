using System.Globalization;
using System.Net;
using System.Net.Sockets;
using GrayRelease.Nacos.Emulator.Auth;
using GrayRelease.Nacos.Emulator.Config;
using GrayRelease.Nacos.Emulator.Diagnostics;
using GrayRelease.Nacos.Emulator.Grpc;
using GrayRelease.Nacos.Emulator.Http;
using GrayRelease.Nacos.Emulator.Naming;
using GrayRelease.Nacos.Emulator.Profiles;
using GrayRelease.Nacos.Emulator.Push;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace GrayRelease.Nacos.Emulator;

/// <summary>
/// An in-process, Nacos-compatible server (naming v1/v2/v3, config, auth, UDP push, gRPC) on Kestrel, for integration
/// tests and demos, serving what its <see cref="NacosEmulatorOptions.ServerLine"/> serves. State lives in memory and
/// survives <see cref="StopAsync"/>; a restart drops ephemeral instances (and closes every gRPC connection).
/// </summary>
public sealed class NacosEmulator : IAsyncDisposable
{
    private const int MaxPortPairAttempts = 20;

    private readonly NacosEmulatorOptions _options;
    private readonly ILogger _logger;
    private readonly NamingStore _naming;
    private readonly ConfigStore _configs;
    private readonly TokenService _tokens;
    private readonly UdpPushService _push;
    private readonly GrpcConnections _grpcConnections;
    private readonly GrpcServer? _grpcServer;
    private readonly IPAddress _bindAddress;
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private WebApplication? _app;
    private ITimer? _healthTimer;
    private Task _configWatch = Task.CompletedTask;
    private CancellationTokenSource _stopping = new();
    private bool _disposed;

    private NacosEmulator(NacosEmulatorOptions options)
    {
        _options = options;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("GrayRelease.Nacos.Emulator");
        _bindAddress = ResolveHost(options.Host);
        _naming = new NamingStore(options);
        _configs = new ConfigStore(options.TimeProvider);
        _tokens = new TokenService(options);
        _push = new UdpPushService(_naming, options, _logger);
        _naming.ServiceChanged += _push.OnServiceChanged;
        _grpcConnections = new GrpcConnections(_naming, _configs, options, Faults, _logger);
        _naming.ServiceChanged += _grpcConnections.OnServiceChanged;
        Faults.GrpcControl = _grpcConnections;
        Faults.Tokens = _tokens;
        if (options.ServesGrpc)
        {
            var dispatcher = new GrpcDispatcher(
                _grpcConnections,
                new GrpcNaming(_naming, _grpcConnections, options, _logger),
                new GrpcConfig(_configs, _logger),
                _tokens,
                options,
                _logger,
                Faults);
            _grpcServer = new GrpcServer(new GrpcServerState(_grpcConnections, dispatcher, options, _logger));
        }

        _naming.InstanceExpired += (service, instance) =>
            Log.InstanceExpired(_logger, service.NamespaceId, service.GroupedName, instance.Ip, instance.Port);
        Port = options.Port;
    }

    /// <summary>The TCP port the emulator listens on (the one picked when the options said 0).</summary>
    public int Port { get; private set; }

    /// <summary>What clients put in their server list, e.g. <c>http://127.0.0.1:8848</c>.</summary>
    public string ServerAddress => "http://" + FormatHost(ClientAddress) + ":" + Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>The base of the Open API, e.g. <c>http://127.0.0.1:8848/nacos/</c>.</summary>
    public Uri BaseAddress => new(ServerAddress + "/nacos/");

    /// <summary>
    /// The gRPC port: always <see cref="Port"/> + 1000, as on a real server (8848 → 9848); with port 0 a free pair
    /// is picked. 0 when the server line serves no gRPC (<see cref="NacosServerLine.Nacos14"/>).
    /// </summary>
    public int GrpcPort { get; private set; }

    /// <summary>Where gRPC clients connect (plaintext HTTP/2), e.g. <c>http://127.0.0.1:9848</c>; null without gRPC.</summary>
    public string? GrpcAddress => GrpcPort == 0 ? null : (_options.GrpcCertificate is null ? "http://" : "https://") + FormatHost(ClientAddress) + ":" + GrpcPort.ToString(CultureInfo.InvariantCulture);

    /// <summary>The server line the emulator behaves as.</summary>
    public NacosServerLine ServerLine => _options.ServerLine;

    /// <summary>Faults to inject into HTTP answers and gRPC connections, switchable at run time.</summary>
    public NacosEmulatorFaults Faults { get; } = new();

    /// <summary>Whether the emulator is currently listening.</summary>
    public bool IsRunning => Volatile.Read(ref _app) is not null;

    internal UdpPushService Push => _push;

    internal int HeldConfigListeners => _configs.HeldListeners;

    internal GrpcConnections GrpcConnections => _grpcConnections;

    private IPAddress ClientAddress => _bindAddress.Equals(IPAddress.Any)
        ? IPAddress.Loopback
        : _bindAddress.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback : _bindAddress;

    /// <summary>Starts an emulator; with port 0 (the default) it picks a free port, see <see cref="Port"/>.</summary>
    /// <param name="options">The settings; defaults when null. They are copied: later changes have no effect.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<NacosEmulator> StartAsync(NacosEmulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        var copy = (options ?? new NacosEmulatorOptions()).Clone();
        copy.Validate();

        // Nacos 3.2 removed UDP push (alibaba/nacos #14052, PR #14074).
        if (copy.ServerLine == NacosServerLine.Nacos32)
        {
            copy.PushEnabled = false;
        }

        var emulator = new NacosEmulator(copy);
        try
        {
            await emulator.StartCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await emulator.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return emulator;
    }

    /// <summary>Goes down like a stopped server: the port is closed, held calls are cut; state stays in memory.</summary>
    /// <param name="cancellationToken">Cancels the graceful part of the stop.</param>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await StopCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>
    /// Comes back on the same port, like a restarted server: ephemeral instances and push subscriptions are gone
    /// (clients must register again, or a full beat re-creates them); persistent instances, configs and tokens stay.
    /// </summary>
    /// <param name="cancellationToken">Cancels the restart.</param>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            await StopCoreAsync(cancellationToken).ConfigureAwait(false);
            _naming.RemoveEphemeral();
            await StartCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>The instances of a service as the server holds them (disabled and unhealthy ones included).</summary>
    /// <param name="serviceName">The service name, bare or grouped (<c>group@@name</c>).</param>
    /// <param name="groupName">The group, when the name is bare.</param>
    /// <param name="namespaceId">The namespace; <c>public</c> and empty are the same.</param>
    public IReadOnlyList<EmulatedInstance> GetInstances(string serviceName, string groupName = ServiceKey.DefaultGroup, string namespaceId = ServiceKey.DefaultNamespace) =>
        _naming.GetAll(Key(serviceName, groupName, namespaceId));

    /// <summary>Registers an instance without HTTP, as an operator would (persistent by default: it needs no beats).</summary>
    /// <param name="serviceName">The service name, bare or grouped.</param>
    /// <param name="ip">The instance's IP address.</param>
    /// <param name="port">The instance's port.</param>
    /// <param name="metadata">The instance metadata, e.g. <c>version</c>.</param>
    /// <param name="weight">The weight, 0 to 10000.</param>
    /// <param name="ephemeral">True for an instance that expires without beats.</param>
    /// <param name="groupName">The group, when the name is bare.</param>
    /// <param name="namespaceId">The namespace.</param>
    public void RegisterInstance(
        string serviceName,
        string ip,
        int port,
        IReadOnlyDictionary<string, string>? metadata = null,
        double weight = 1,
        bool ephemeral = false,
        string groupName = ServiceKey.DefaultGroup,
        string namespaceId = ServiceKey.DefaultNamespace)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(ip);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        ArgumentOutOfRangeException.ThrowIfNegative(weight);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(weight, 10000);
        try
        {
            _naming.Register(Key(serviceName, groupName, namespaceId), new InstanceRegistration
            {
                Ip = ip,
                Port = port,
                Weight = weight,
                Ephemeral = ephemeral,
                Metadata = metadata is null ? InstanceRegistration.EmptyMetadata : new Dictionary<string, string>(metadata, StringComparer.Ordinal),
            });
        }
        catch (Http.NacosRequestException ex)
        {
            // A persistent instance in an ephemeral service (or the reverse), refused as the server refuses it.
            throw new InvalidOperationException(ex.Message, ex);
        }
    }

    /// <summary>Enables or disables an instance (disabled ones leave list answers); pushes the change.</summary>
    /// <returns>False when no such instance exists.</returns>
    /// <param name="serviceName">The service name, bare or grouped.</param>
    /// <param name="ip">The instance's IP address.</param>
    /// <param name="port">The instance's port.</param>
    /// <param name="enabled">The new state.</param>
    /// <param name="groupName">The group, when the name is bare.</param>
    /// <param name="namespaceId">The namespace.</param>
    public bool SetInstanceEnabled(string serviceName, string ip, int port, bool enabled, string groupName = ServiceKey.DefaultGroup, string namespaceId = ServiceKey.DefaultNamespace) =>
        _naming.Update(Key(serviceName, groupName, namespaceId), ip, port, entry =>
        {
            var changed = entry.Enabled != enabled;
            entry.Enabled = enabled;
            return changed;
        });

    /// <summary>Changes an instance's weight; pushes the change.</summary>
    /// <returns>False when no such instance exists.</returns>
    /// <param name="serviceName">The service name, bare or grouped.</param>
    /// <param name="ip">The instance's IP address.</param>
    /// <param name="port">The instance's port.</param>
    /// <param name="weight">The new weight, 0 to 10000.</param>
    /// <param name="groupName">The group, when the name is bare.</param>
    /// <param name="namespaceId">The namespace.</param>
    public bool SetInstanceWeight(string serviceName, string ip, int port, double weight, string groupName = ServiceKey.DefaultGroup, string namespaceId = ServiceKey.DefaultNamespace)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(weight);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(weight, 10000);
        return _naming.Update(Key(serviceName, groupName, namespaceId), ip, port, entry =>
        {
            var changed = entry.Weight != weight;
            entry.Weight = weight;
            return changed;
        });
    }

    /// <summary>Replaces an instance's metadata (for example its <c>version</c>); pushes the change.</summary>
    /// <returns>False when no such instance exists.</returns>
    /// <param name="serviceName">The service name, bare or grouped.</param>
    /// <param name="ip">The instance's IP address.</param>
    /// <param name="port">The instance's port.</param>
    /// <param name="metadata">The new metadata.</param>
    /// <param name="groupName">The group, when the name is bare.</param>
    /// <param name="namespaceId">The namespace.</param>
    public bool SetInstanceMetadata(string serviceName, string ip, int port, IReadOnlyDictionary<string, string> metadata, string groupName = ServiceKey.DefaultGroup, string namespaceId = ServiceKey.DefaultNamespace)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var copy = new Dictionary<string, string>(metadata, StringComparer.Ordinal);
        return _naming.Update(Key(serviceName, groupName, namespaceId), ip, port, entry =>
        {
            var changed = !NamingStore.SameMetadata(entry.Metadata, copy);
            entry.Metadata = copy;
            return changed;
        });
    }

    /// <summary>Removes an instance, as an operator would; pushes the change.</summary>
    /// <returns>False when no such instance exists.</returns>
    /// <param name="serviceName">The service name, bare or grouped.</param>
    /// <param name="ip">The instance's IP address.</param>
    /// <param name="port">The instance's port.</param>
    /// <param name="groupName">The group, when the name is bare.</param>
    /// <param name="namespaceId">The namespace.</param>
    public bool RemoveInstance(string serviceName, string ip, int port, string groupName = ServiceKey.DefaultGroup, string namespaceId = ServiceKey.DefaultNamespace) =>
        _naming.Deregister(Key(serviceName, groupName, namespaceId), ip, port);

    /// <summary>Publishes (creates or replaces) a config; held listener calls for it answer at once.</summary>
    /// <param name="dataId">The data id (letters, digits and <c>_ . - :</c>).</param>
    /// <param name="group">The group (same characters).</param>
    /// <param name="content">The content (not blank).</param>
    /// <param name="tenant">The tenant (namespace); empty and <c>public</c> are the same.</param>
    /// <param name="type">The config type (<c>json</c>, <c>yaml</c>, <c>properties</c>, <c>text</c>...).</param>
    public void PublishConfig(string dataId, string group, string content, string tenant = "", string? type = null)
    {
        var key = ConfigKeyFor(dataId, group, tenant);
        ArgumentException.ThrowIfNullOrWhiteSpace(content);
        _configs.Publish(key, content, type);
    }

    /// <summary>The content of a config, or null when it does not exist.</summary>
    /// <param name="dataId">The data id.</param>
    /// <param name="group">The group.</param>
    /// <param name="tenant">The tenant (namespace).</param>
    public string? GetConfig(string dataId, string group, string tenant = "") =>
        _configs.Get(ConfigKeyFor(dataId, group, tenant))?.Content;

    /// <summary>Deletes a config; held listener calls for it answer at once.</summary>
    /// <returns>False when it did not exist.</returns>
    /// <param name="dataId">The data id.</param>
    /// <param name="group">The group.</param>
    /// <param name="tenant">The tenant (namespace).</param>
    public bool RemoveConfig(string dataId, string group, string tenant = "") =>
        _configs.Remove(ConfigKeyFor(dataId, group, tenant));

    /// <summary>Stops the emulator and releases its sockets and timers.</summary>
    public async ValueTask DisposeAsync()
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            await StopCoreAsync(CancellationToken.None).ConfigureAwait(false);
            _push.Dispose();
            _stopping.Dispose();
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    private async Task<WebApplication> StartHttpAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(NacosEmulator).Assembly.GetName().Name,
        });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(_bindAddress, Port);
        });
        builder.Services.AddRoutingCore();
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));

        var app = builder.Build();
        var faults = new FaultMiddleware(Faults, _logger, StoppingToken);
        var auth = new AuthApi(_tokens, _options, Faults, _logger);
        app.Use(faults.InvokeAsync);
        app.Use(new ApiCompatibilityMiddleware(_options, _logger).InvokeAsync);
        app.Use(new ServerLineGate(_options, _logger).InvokeAsync);
        app.Use(auth.InvokeAsync);
        app.UseRouting();
        new NamingApi(_naming, _push, _options, _logger).Map(app);
        new ConfigApi(_configs, _logger, StoppingToken).Map(app);
        if (_options.ServesV3ClientApi)
        {
            new ClientApiV3(_naming, _configs, _options, _logger).Map(app);
        }

        auth.Map(app);

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        Port = BoundPort(app) ?? Port;
        return app;
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        if (_stopping.IsCancellationRequested)
        {
            _stopping.Dispose();
            _stopping = new CancellationTokenSource();
        }

        var app = await StartHttpAsync(cancellationToken).ConfigureAwait(false);
        if (_grpcServer is not null)
        {
            for (var attempt = 1; ; attempt++)
            {
                // Port + 1000 always (8848 → 9848), also for free ports, so clients find gRPC as on a real server.
                var pairing = GrpcPort == 0 && _options.Port == 0;
                var grpcPort = GrpcPort != 0 ? GrpcPort : Port + NacosEmulatorOptions.GrpcPortOffset;
                try
                {
                    if (grpcPort > 65535)
                    {
                        throw new IOException($"The gRPC port {grpcPort} (HTTP port + {NacosEmulatorOptions.GrpcPortOffset}) is above 65535.");
                    }

                    await _grpcServer.StartAsync(_bindAddress, grpcPort, cancellationToken).ConfigureAwait(false);
                    GrpcPort = _grpcServer.Port;
                    break;
                }
                catch (Exception exception) when (pairing && attempt < MaxPortPairAttempts && exception is IOException or InvalidOperationException)
                {
                    // That free HTTP port's + 1000 is taken: take another free HTTP port.
                    await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
                    await app.DisposeAsync().ConfigureAwait(false);
                    Port = 0;
                    app = await StartHttpAsync(cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
                    await app.DisposeAsync().ConfigureAwait(false);
                    throw;
                }
            }

            var stopping = _stopping.Token;
            using (ExecutionContext.SuppressFlow())
            {
                _configWatch = Task.Run(() => _grpcConnections.WatchConfigsAsync(stopping), CancellationToken.None);
            }

            Log.GrpcStarted(_logger, GrpcAddress!);
        }

        _push.Start(_bindAddress);
        _healthTimer = _options.TimeProvider.CreateTimer(
            static state => ((NacosEmulator)state!).CheckHealth(),
            this,
            _options.HealthCheckInterval,
            _options.HealthCheckInterval);
        Volatile.Write(ref _app, app);
        Log.Started(_logger, ServerAddress);
    }

    private async Task StopCoreAsync(CancellationToken cancellationToken)
    {
        var app = Volatile.Read(ref _app);
        if (app is null)
        {
            return;
        }

        Volatile.Write(ref _app, null);
        _healthTimer?.Dispose();
        _healthTimer = null;
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            if (_grpcServer is not null)
            {
                await _grpcServer.StopAsync(cancellationToken).ConfigureAwait(false);
            }

            await app.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await app.DisposeAsync().ConfigureAwait(false);
            _push.Stop();
            await _configWatch.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        Log.Stopped(_logger, ServerAddress);
    }

    private CancellationToken StoppingToken() => _stopping.Token;

    private void CheckHealth()
    {
        try
        {
            _naming.CheckHealth();
            _push.ExpireSubscriptions();
            _grpcConnections.CheckIdle();
        }
#pragma warning disable CA1031 // A timer callback must not throw: log and try again on the next tick.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.HealthCheckFailed(_logger, exception);
        }
    }

    private static int? BoundPort(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        if (addresses is null)
        {
            return null;
        }

        foreach (var address in addresses)
        {
            if (Uri.TryCreate(address, UriKind.Absolute, out var uri))
            {
                return uri.Port;
            }
        }

        return null;
    }

    private static ServiceKey Key(string serviceName, string groupName, string namespaceId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceName);
        return ServiceKey.Create(namespaceId, serviceName, groupName)
            ?? throw new ArgumentException($"'{serviceName}' is not a valid service name (expected 'name' or 'group@@name').", nameof(serviceName));
    }

    private static ConfigKey ConfigKeyFor(string dataId, string group, string tenant)
    {
        if (!ConfigKey.IsValidName(dataId))
        {
            throw new ArgumentException($"'{dataId}' is not a valid data id (letters, digits and _ . - : only).", nameof(dataId));
        }

        if (!ConfigKey.IsValidName(group))
        {
            throw new ArgumentException($"'{group}' is not a valid group (letters, digits and _ . - : only).", nameof(group));
        }

        return ConfigKey.Create(tenant, group, dataId);
    }

    private static IPAddress ResolveHost(string host)
    {
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        if (IPAddress.TryParse(host, out var address))
        {
            return address;
        }

        foreach (var candidate in Dns.GetHostAddresses(host))
        {
            if (candidate.AddressFamily == AddressFamily.InterNetwork)
            {
                return candidate;
            }
        }

        throw new ArgumentException($"NacosEmulatorOptions.Host '{host}' does not resolve to an IPv4 address.", nameof(host));
    }

    private static string FormatHost(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? "[" + address + "]" : address.ToString();
}
