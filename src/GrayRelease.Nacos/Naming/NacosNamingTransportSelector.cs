using System.Collections.Concurrent;
using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Grpc;
using GrayRelease.Nacos.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace GrayRelease.Nacos.Naming;

/// <summary>
/// Chooses the naming protocol once per application (<c>nacos:Transport</c>), shared by registration and discovery:
/// <c>Http</c>, <c>Grpc</c>, or <c>Auto</c> = gRPC when a server answers ServerCheck on its gRPC port, else HTTP.
/// The choice and its reason are logged once. When Auto chose HTTP because no ServerCheck was answered, the gRPC port is
/// probed again (backing off) and, once it answers, gRPC is chosen for good and <see cref="Switched"/> completes: the
/// registration and the discovery cache then move their live state over (never back: the gRPC connection reconnects).
/// </summary>
internal sealed class NacosNamingTransportSelector : IDisposable
{
    private readonly Func<CancellationToken, Task<INacosNamingTransport>> _select;
    private readonly object _gate = new();
    private readonly ConcurrentQueue<long> _reprobeTimes = new();
    private readonly TaskCompletionSource<INacosNamingTransport> _switched = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _disposed = new();
    private readonly TimeProvider _time = TimeProvider.System;
    private Task<INacosNamingTransport>? _selected;
    private GrpcNamingTransport? _grpc;

    private NacosNamingTransportSelector(Func<CancellationToken, Task<INacosNamingTransport>> select) => _select = select;

    public NacosNamingTransportSelector(NacosOptions options, NacosNamingClient naming, NacosHttpClient http, Func<NacosGrpcConnection> connection, ILogger logger, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = timeProvider ?? TimeProvider.System;
        _select = async cancellationToken =>
        {
            var (wanted, why) = Wanted(options);
            if (wanted == NacosTransport.Http)
            {
                // v1 until a server answers that it has none (404 / 410); then the v3 client API (NacosNamingClient.V3.cs).
                Log.NamingTransportChosen(logger, "HTTP (v1 Open API, v3 client API where v1 is gone)", why);
                return new HttpNamingTransport(naming, http, options.GroupName);
            }

            if (wanted == NacosTransport.Auto)
            {
                var server = await NacosGrpcConnection.ProbeAsync(options, NacosGrpcSettings.FromOptions(options), logger, cancellationToken).ConfigureAwait(false);
                if (server is null)
                {
                    // No gRPC answer: a 1.x server or a closed port only if the server answers HTTP. A server that is
                    // down (e.g. starting after the application) must not pin HTTP for the application's life.
                    var answer = await AnswersHttpAsync(http, cancellationToken).ConfigureAwait(false);
                    if (answer is null)
                    {
                        Log.NamingTransportUndecided(logger);
                        throw new NacosUnavailableException("No Nacos server answered, over gRPC or HTTP, to choose the naming transport (nacos:Transport is Auto); trying again on the next call.");
                    }

                    const string noGrpc = "nacos:Transport is Auto and no server answered ServerCheck on its gRPC port";
                    if (answer is 404 or 410)
                    {
                        // A 3.x server whose gRPC port is closed to us: its v3 client API is the only HTTP it serves.
                        naming.UseV3($"the v1 instance list answered {answer} ({NacosV3Api.V1GoneReason})");
                        Log.NamingTransportChosen(logger, "HTTP (v3 client API)", noGrpc + $" (port closed) and the v1 API answered {answer} (a Nacos 3.x server without it); probing the gRPC port again, backing off");
                    }
                    else
                    {
                        Log.NamingTransportChosen(logger, "HTTP (v1 Open API)", noGrpc + " (a 1.x server, or the port is closed); probing the gRPC port again, backing off");
                    }

                    // Probed again whatever the HTTP answer. A 404 / 410 is a 3.x server: it serves gRPC unless its port is
                    // closed (restarting, slow). A v1 answer does not tell a 1.x server (no gRPC) from 2.x / 3.0 / 3.1 (gRPC,
                    // and the protocol the official client always uses for ephemeral instances:
                    // client/.../naming/remote/NamingClientProxyDelegate.java getExecuteClientProxy, whose RpcClient keeps
                    // reconnecting rather than falling back to HTTP). On a 1.x host a probe costs a refused connect (at
                    // worst nacos:GrpcPort's ServerCheck timeout, in the background) and is spaced up to 5 minutes apart.
                    using (ExecutionContext.SuppressFlow())
                    {
                        _ = Task.Run(() => ReprobeAsync(options, connection, logger), CancellationToken.None);
                    }

                    return new HttpNamingTransport(naming, http, options.GroupName);
                }

                why = $"nacos:Transport is Auto and {server} answered ServerCheck";
            }

            Log.NamingTransportChosen(logger, "gRPC", why);
            var grpc = new GrpcNamingTransport(connection(), options, logger);
            _grpc = grpc;
            return grpc;
        };
    }

    /// <summary>
    /// Completes with the gRPC transport when Auto, having chosen HTTP, finds the gRPC port answering; never for the
    /// other choices. Holders of the HTTP transport move to it (registration: register over gRPC, stop beats, remove
    /// the HTTP instance; discovery: subscribe every cached service, then end its poll loop).
    /// </summary>
    public Task<INacosNamingTransport> Switched => _switched.Task;

    /// <summary>The wait after <paramref name="delay"/>: doubled, at most <paramref name="max"/>.</summary>
    internal static TimeSpan NextReprobeDelay(TimeSpan delay, TimeSpan max) => delay * 2 < max ? delay * 2 : max;

    /// <summary>Probes the gRPC port at 1 s, 2 s, 4 s ... then every 5 min until it answers ServerCheck; then switches.</summary>
    private async Task ReprobeAsync(NacosOptions options, Func<NacosGrpcConnection> connection, ILogger logger)
    {
        var token = _disposed.Token;
        var settings = NacosGrpcSettings.FromOptions(options);
        var delay = FirstReprobeDelay;
        while (true)
        {
            try
            {
                await Task.Delay(delay, _time, token).ConfigureAwait(false);
                delay = NextReprobeDelay(delay, MaxReprobeDelay);
                _reprobeTimes.Enqueue(_time.GetTimestamp());
                while (_reprobeTimes.Count > MaxReprobeTimesKept && _reprobeTimes.TryDequeue(out _))
                {
                    // On a 1.x server the loop runs for the life of the process: keep only the latest few.
                }

                // No logger: ProbeAsync warns for each server that does not answer, which on a 1.x server would be a
                // warning every 5 minutes for the life of the process.
                var server = await NacosGrpcConnection.ProbeAsync(options, settings, NullLogger.Instance, token).ConfigureAwait(false);
                if (server is null)
                {
                    Log.NamingReprobeMissed(logger, delay);
                    continue;
                }

                var grpc = new GrpcNamingTransport(connection(), options, logger);
                lock (_gate)
                {
                    if (_disposed.IsCancellationRequested)
                    {
                        grpc.Dispose();
                        return;
                    }

                    // From now on every first call gets gRPC; holders of the HTTP transport follow Switched.
                    _grpc = grpc;
                    _selected = Task.FromResult<INacosNamingTransport>(grpc);
                }

                Log.NamingTransportSwitched(logger, $"nacos:Transport is Auto and {server} now answers ServerCheck (no server answered it when HTTP was chosen)");
                _switched.TrySetResult(grpc);
                return;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The loop must outlive any single failed probe.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.NamingReprobeFailed(logger, ex, delay);
            }
        }
    }

    /// <summary>The HTTP status a server answers (a refused login included: 403), or null when none answers.</summary>
    private static async Task<int?> AnswersHttpAsync(NacosHttpClient http, CancellationToken cancellationToken)
    {
        try
        {
            // An unknown service's list: a harmless read every line answers (1.x-3.1: 200, 3.2: 404, 3.0/3.1 with the
            // client API compatibility off: 410).
            var response = await http.SendAsync(
                new NacosRequest(HttpMethod.Get, "v1/ns/instance/list").WithQuery("serviceName", "DEFAULT_GROUP@@grayrelease-transport-probe"),
                cancellationToken).ConfigureAwait(false);
            return (int)response.StatusCode;
        }
        catch (NacosUnavailableException)
        {
            return null;
        }
        catch (NacosException ex)
        {
            return ex.StatusCode ?? 0;
        }
    }

    /// <summary>A selector that always answers <paramref name="transport"/> (tests, and the HTTP-only constructors).</summary>
    public static NacosNamingTransportSelector Fixed(INacosNamingTransport transport) => new(_ => Task.FromResult(transport));

    /// <summary>The chosen transport; the first call chooses (probing the gRPC port for Auto, at most 3 s per server).</summary>
    public Task<INacosNamingTransport> GetAsync(CancellationToken cancellationToken)
    {
        Task<INacosNamingTransport> selected;
        lock (_gate)
        {
            if (_selected is null || _selected.IsFaulted || _selected.IsCanceled)
            {
                // Not the caller's token: the choice is shared, a cancelled first caller must not cancel it for all.
                using (ExecutionContext.SuppressFlow())
                {
                    _selected = Task.Run(() => _select(CancellationToken.None));
                }
            }

            selected = _selected;
        }

        return selected.WaitAsync(cancellationToken);
    }

    /// <summary>The transport if already chosen, else null.</summary>
    public INacosNamingTransport? Current
    {
        get
        {
            lock (_gate)
            {
                return _selected is { IsCompletedSuccessfully: true } done ? done.Result : null;
            }
        }
    }

    /// <summary>The first wait before the gRPC port is probed again (doubling up to <see cref="MaxReprobeDelay"/>); tests shorten it.</summary>
    internal TimeSpan FirstReprobeDelay { get; set; } = TimeSpan.FromSeconds(1);

    internal TimeSpan MaxReprobeDelay { get; set; } = TimeSpan.FromMinutes(5);

    private const int MaxReprobeTimesKept = 16;

    /// <summary>When the latest re-probes started (<see cref="TimeProvider.GetTimestamp"/>; at most 16 kept; tests).</summary>
    internal IReadOnlyCollection<long> ReprobeTimes => _reprobeTimes;

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed.IsCancellationRequested)
            {
                return;
            }

            _disposed.Cancel();
        }

        // _disposed is not disposed: a re-probe loop may still read its token (it owns no timer).
        _grpc?.Dispose();
    }

    /// <summary>What the options ask for: <c>NamingUseRpc</c> (Nacos.AspNetCore) means gRPC unless Transport says Http.</summary>
    internal static (NacosTransport Transport, string Why) Wanted(NacosOptions options) => options.Transport switch
    {
        NacosTransport.Http => (NacosTransport.Http, "nacos:Transport is Http"),
        NacosTransport.Grpc => (NacosTransport.Grpc, "nacos:Transport is Grpc"),
        _ when options.NamingUseRpc => (NacosTransport.Grpc, "nacos:NamingUseRpc is true"),
        _ => (NacosTransport.Auto, "nacos:Transport is Auto"),
    };
}
