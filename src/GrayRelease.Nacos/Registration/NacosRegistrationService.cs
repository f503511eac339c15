using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Http;
using GrayRelease.Nacos.Naming;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GrayRelease.Nacos.Registration;

/// <summary>
/// Registers this application with Nacos once the web server has bound its addresses (<see cref="StartedAsync"/> runs
/// after every hosted service, Kestrel included, has started), keeps it alive with heartbeats, and deregisters it in
/// <see cref="StoppingAsync"/>, which runs before any hosted service stops: the drain delay then lets callers' caches
/// drop this instance while Kestrel still serves.
/// </summary>
internal sealed class NacosRegistrationService(
    NacosNamingTransportSelector transports,
    NacosNamingClient naming,
    IOptions<NacosOptions> options,
    IOptionsMonitor<GrayReleaseOptions> grayOptions,
    IServiceProvider services,
    IHostEnvironment environment,
    TimeProvider timeProvider,
    ILogger<NacosRegistrationService> logger) : IHostedLifecycleService, IAsyncDisposable
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    private readonly NacosOptions _options = options.Value;
    private volatile INacosNamingTransport? _transport;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;
    private volatile NacosRegistration? _registration;

    /// <summary>The HTTP-only service (tests): the v1 Open API with heartbeats.</summary>
    public NacosRegistrationService(
        NacosNamingClient naming,
        IOptions<NacosOptions> options,
        IOptionsMonitor<GrayReleaseOptions> grayOptions,
        IServiceProvider services,
        IHostEnvironment environment,
        TimeProvider timeProvider,
        ILogger<NacosRegistrationService> logger)
        : this(NacosNamingTransportSelector.Fixed(new HttpNamingTransport(naming, null, options.Value.GroupName)), naming, options, grayOptions, services, environment, timeProvider, logger)
    {
    }

    // Auto moved naming to gRPC while this registration lived over HTTP: the gRPC transport it is (being) registered on.
    private volatile INacosNamingTransport? _movingTo;
    private volatile bool _beating;

    /// <summary>Whether the HTTP heartbeat loop runs (tests).</summary>
    internal bool Beating => _beating;

    /// <summary>What was (or is being) registered; null before start or when registration is off.</summary>
    internal NacosRegistration? Registration => _registration;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        // NamingUseRpc selects gRPC for naming (NacosNamingTransportSelector) and ConfigUseRpc for configuration (the
        // configuration source); each choice is logged when it is made.

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (!_options.RegisterEnabled)
        {
            Log.RegistrationDisabled(logger);
            return Task.CompletedTask;
        }

        var registration = BuildRegistration();
        if (registration is null)
        {
            return Task.CompletedTask;
        }

        _registration = registration;

        // Never block start-up on Nacos: an unreachable registry must not keep the application down. The loop lives as
        // long as the application: it must not carry the starter's gray tag, Activity or log scope into every beat.
        using (ExecutionContext.SuppressFlow())
        {
            _loop = Task.Run(() => RunAsync(registration, _stopping.Token), CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            // Whatever happened to the loop, deregistration must still be attempted.
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (_registration is not { } registration)
        {
            return;
        }

        try
        {
            var transport = _transport ?? await transports.GetAsync(cancellationToken).ConfigureAwait(false);
            await transport.DeregisterAsync(registration, cancellationToken).ConfigureAwait(false);
            if (_movingTo is { } moving && !ReferenceEquals(moving, transport))
            {
                // Stopped while moving to gRPC: the gRPC registration may exist already, and would otherwise stay listed
                // until the connection closes, after Kestrel stopped.
                await moving.DeregisterAsync(registration, cancellationToken).ConfigureAwait(false);
            }

            Log.Deregistered(logger, registration.ToString(), _options.DrainDelay);
        }
        catch (Exception ex)
        {
            // Never fail the host's shutdown over Nacos: the instance then expires when heartbeats stop (HTTP) or when
            // the connection closes (gRPC).
            Log.DeregisterFailed(logger, ex, registration.ToString());
            return;
        }

        if (_options.DrainDelay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(_options.DrainDelay, timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The host's shutdown timeout is shorter than the drain delay: stop now.
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _stopping.Dispose();
    }

    internal NacosRegistration? BuildRegistration()
    {
        var bound = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses ?? (ICollection<string>)[];

        // nacos:InstanceGrpcPort, else the bound port of the endpoint marked PublishAsNacosGrpcPort() (known only now: port 0).
        var grpcPort = _options.InstanceGrpcPort > 0 ? _options.InstanceGrpcPort : services.GetService<NacosGrpcEndpoint>()?.BoundPort ?? 0;
        var endpoint = HostAddressResolver.Resolve(bound, _options, grpcPort: grpcPort);
        if (endpoint is null)
        {
            Log.CannotRegister(logger, "no port is known: the web server has bound no address and nacos:Port is not set");
            return null;
        }

        var gray = grayOptions.CurrentValue;
        var metadata = new Dictionary<string, string>(_options.Metadata, StringComparer.Ordinal);
        if (!string.IsNullOrEmpty(gray.Version))
        {
            metadata[gray.MetadataKey] = gray.Version;
        }

        // The lane is published like the version: callers' routing tables group instances by this entry.
        if (!string.IsNullOrEmpty(gray.Lane))
        {
            metadata[gray.LaneMetadataKey] = gray.Lane;
        }

        if (_options.Secure)
        {
            metadata["secure"] = "true";
        }

        // One registration for REST and gRPC, as Spring's gRPC starter does it (grpc-spring: GrpcUtils.CLOUD_DISCOVERY_METADATA_PORT,
        // "gRPC_port"): callers' gRPC resolvers dial this port, their HTTP clients the registered one.
        if (grpcPort > 0)
        {
            metadata[_options.GrpcPortMetadataKey] = grpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var serviceName = string.IsNullOrWhiteSpace(_options.ServiceName) ? environment.ApplicationName : _options.ServiceName;

        // The validator checked the options; the version entry is only known now. A server would refuse the
        // registration for ever: say so once instead of retrying.
        if ((NacosRegistrationRules.CheckServiceName(serviceName, "nacos:ServiceName") ?? NacosRegistrationRules.CheckMetadata(metadata)) is { } invalid)
        {
            Log.CannotRegister(logger, invalid);
            return null;
        }

        return new NacosRegistration(
            serviceName,
            _options.GroupName,
            string.IsNullOrEmpty(_options.ClusterName) ? "DEFAULT" : _options.ClusterName,
            endpoint.Value.Ip,
            endpoint.Value.Port,
            _options.Weight,
            _options.InstanceEnabled,
            _options.Ephemeral,
            metadata);
    }

    private async Task RunAsync(NacosRegistration registration, CancellationToken cancellationToken)
    {
        using var running = NacosMetrics.LoopRunning("beat");
        try
        {
            await BeatLoopAsync(registration, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // Not expected (every iteration catches its own faults); logged so that it is never silent.
            Log.RegistrationLoopFailed(logger, ex, registration.ToString());
        }
    }

    private async Task BeatLoopAsync(NacosRegistration registration, CancellationToken cancellationToken)
    {
        await RegisterWithRetryAsync(registration, null, cancellationToken).ConfigureAwait(false);
        var transport = _transport!;

        // gRPC: no beats, the instance lives with the connection, whose redo registers it again after a reconnect
        // (client/.../naming/remote/gprc/redo/NamingGrpcRedoService.java). A persistent instance is owned by its
        // ip:port on either protocol: nothing to gain by moving it.
        if (!registration.Ephemeral || !transport.UsesHeartbeats)
        {
            return;
        }

        using var beats = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var beating = BeatAsync(registration, beats.Token);
        var switched = transports.Switched;
        if (await Task.WhenAny(beating, switched).ConfigureAwait(false) == beating)
        {
            await beating.ConfigureAwait(false);
            return;
        }

        await MoveToGrpcAsync(registration, transport, await switched.ConfigureAwait(false), beats, beating, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Auto found the gRPC port answering: register over gRPC while the beats still keep the HTTP instance alive, then
    /// stop the beats, then remove the HTTP instance. The server keeps the two apart (one client per ip:port, one per
    /// connection; core/InstanceOperatorClientImpl.java removeInstance touches only the ip:port one) and lists an
    /// identical instance once (naming/core/v2/index/ServiceStorage.java getAllInstancesFromIndex collects a set), so
    /// callers never miss this instance and see it twice at most between the two calls.
    /// </summary>
    private async Task MoveToGrpcAsync(
        NacosRegistration registration,
        INacosNamingTransport http,
        INacosNamingTransport grpc,
        CancellationTokenSource beats,
        Task beating,
        CancellationToken cancellationToken)
    {
        _movingTo = grpc;
        await RegisterWithRetryAsync(registration, grpc, cancellationToken).ConfigureAwait(false);
        await beats.CancelAsync().ConfigureAwait(false);
        await beating.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _transport = grpc;
        _movingTo = null;
        try
        {
            await http.DeregisterAsync(registration, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.HttpRegistrationRemovalFailed(logger, ex, registration.ToString());
            return;
        }

        Log.RegistrationMovedToGrpc(logger, registration.ToString());
    }

    private async Task BeatAsync(NacosRegistration registration, CancellationToken cancellationToken)
    {
        _beating = true;
        try
        {
            await BeatForeverAsync(registration, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _beating = false;
        }
    }

    private async Task BeatForeverAsync(NacosRegistration registration, CancellationToken cancellationToken)
    {
        var bounds = BeatBounds.For(registration);
        var interval = bounds.Initial;
        var delay = interval;
        var failures = 0;
        double? lastOddAnswer = null;

        // The first beat is a full one, as the official clients send it; light ones follow once the server allows them.
        // A disabled instance only ever sends light beats: a full beat re-creates a forgotten instance enabled.
        var light = false;
        while (true)
        {
            await Task.Delay(delay, timeProvider, cancellationToken).ConfigureAwait(false);
            try
            {
                var beat = await naming.BeatAsync(registration, (long)interval.TotalMilliseconds, light || !registration.Enabled, cancellationToken)
                    .ConfigureAwait(false);
                failures = 0;
                if (beat.ClientBeatInterval is { } answered)
                {
                    var next = bounds.Clamp(answered, interval);
                    if (next.Odd && answered != lastOddAnswer)
                    {
                        lastOddAnswer = answered;
                        Log.BeatIntervalOutOfRange(
                            logger,
                            registration.ToString(),
                            answered.ToString(System.Globalization.CultureInfo.InvariantCulture),
                            next.Interval,
                            bounds.Min,
                            bounds.Max);
                    }

                    interval = next.Interval;
                }

                light = beat.LightBeatEnabled;
                if (beat.MustRegister)
                {
                    if (beat.Code == NacosBeatResult.ServerRefused)
                    {
                        Log.BeatRefused(logger, registration.ToString(), beat.Code, beat.Detail);
                    }
                    else
                    {
                        Log.BeatUnknownInstance(logger, registration.ToString());
                    }

                    // The full instance, enabled flag included: a beat cannot carry it.
                    await RegisterWithRetryAsync(registration, null, cancellationToken).ConfigureAwait(false);
                }

                delay = interval;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // docs/reliability.md: beat again after 1 s (doubling while it keeps failing, up to the interval), so that
                // a restarted registry sees this instance again within about a second rather than a whole interval.
                failures++;
                delay = BeatBounds.RetryDelay(failures, interval);
                Log.BeatFailed(logger, ex, registration.ToString(), delay);
            }
        }
    }

    /// <summary>Registers over <paramref name="via"/>, or over the chosen transport when null, until it succeeds.</summary>
    private async Task RegisterWithRetryAsync(NacosRegistration registration, INacosNamingTransport? via, CancellationToken cancellationToken)
    {
        var delay = FirstRetryDelay;
        while (true)
        {
            try
            {
                // Chosen here, inside the retry: with nacos:Transport Auto and Nacos down, the choice waits for it.
                var transport = via ?? (_transport ??= await transports.GetAsync(cancellationToken).ConfigureAwait(false));
                await transport.RegisterAsync(registration, cancellationToken).ConfigureAwait(false);
                Log.Registered(logger, registration.ToString());
                return;
            }
            catch (NacosProtocolException ex)
            {
                // The server answered and refused (a value it rejects, or a service of the other kind): an error, not an
                // outage. Still retried, slowly: the conflicting instances may go away.
                Log.RegistrationRefused(logger, ex, registration.ToString(), delay);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Log.RegisterFailed(logger, ex, registration.ToString(), delay);
            }

            await Task.Delay(delay, timeProvider, cancellationToken).ConfigureAwait(false);
            delay = delay * 2 < MaxRetryDelay ? delay * 2 : MaxRetryDelay;
        }
    }
}
