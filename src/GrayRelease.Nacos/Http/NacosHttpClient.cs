using System.Net;
using System.Text;
using System.Text.Json;
using GrayRelease.Nacos.Configuration;
using GrayRelease.Nacos.Diagnostics;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Http;

/// <summary>
/// Calls the Nacos Open API over HTTP: fails over between server addresses (remembering the last good one),
/// logs in when credentials are configured and keeps the token fresh.
/// </summary>
internal sealed class NacosHttpClient : IDisposable
{
    /// <summary>
    /// A protocol level, not our package version: servers enable UDP push only for known client names at or above a
    /// minimum version (<c>Nacos-CSharp-Client</c> 0.9.0).
    /// </summary>
    internal const string UserAgent = "Nacos-CSharp-Client:v1.3.0";

    private long _outageCount;

    /// <summary>Connections to one server at most (a config long poll holds one for up to 30 s; the rest are short calls).</summary>
    internal const int MaxConnectionsPerServer = 8;

    private static readonly TimeSpan MaxTokenRefresh = TimeSpan.FromHours(5);

    private static readonly TimeSpan ReloginWindow = TimeSpan.FromSeconds(60);

    private static readonly string[] LoginPaths = ["v3/auth/user/login", "v1/auth/users/login"];

    private readonly Uri[] _servers;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string? _userName;
    private readonly string? _password;
    private readonly TimeSpan _timeout;
    private readonly SemaphoreSlim _loginLock = new(1, 1);
    private int _preferred;
    private volatile TokenState? _token;

    public NacosHttpClient(NacosOptions options, TimeProvider timeProvider, ILogger logger, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var servers = new List<Uri>();
        foreach (var address in options.GetServerAddresses())
        {
            if (NacosServerAddress.TryParse(address, out var uri))
            {
                servers.Add(uri);
            }
        }

        if (servers.Count == 0)
        {
            throw new ArgumentException(NacosOptionsValidatorMessages.NoServers(options), nameof(options));
        }

        _servers = [.. servers];
        _time = timeProvider;
        _logger = logger;
        _userName = string.IsNullOrEmpty(options.UserName) ? null : options.UserName;
        _password = options.Password;
        _timeout = TimeSpan.FromMilliseconds(options.DefaultTimeOut > 0 ? options.DefaultTimeOut : 15000);
        _ownsHttp = true;
        _http = new HttpClient(handler ?? new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectTimeout = _timeout,
            AutomaticDecompression = DecompressionMethods.GZip,

            // HTTP/1.1 takes a connection per request in flight: polls of many services falling due together held 13
            // connections (39 at start-up) to one server in the idle benchmark. Beyond this, requests wait for a free
            // one (within their own timeout); the polls are also spread over their period (NacosServiceInstanceProvider.PollAsync).
            MaxConnectionsPerServer = MaxConnectionsPerServer,
        })
        {
            // Per-attempt timeouts come from TimeProvider-driven tokens, so the client itself never times out.
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>How many calls so far found no server answering; a change tells a caller that Nacos was down meanwhile.</summary>
    public long OutageCount => Interlocked.Read(ref _outageCount);

    /// <summary>The configured servers, as base URIs ending with the context path.</summary>
    public IReadOnlyList<Uri> Servers => _servers;

    /// <summary>
    /// Sends <paramref name="request"/> to the first server that is up, and returns its answer, whatever the status
    /// (a 500 included: that is an error of this request, for the caller to report), except the ones below.
    /// </summary>
    /// <exception cref="NacosUnavailableException">Every server failed: connection failure, timeout, 502, 503 or 504.</exception>
    /// <exception cref="NacosProtocolException">The server answered 410 Gone: its v1 Open API is switched off.</exception>
    /// <exception cref="NacosAuthenticationException">The login was refused, or the user lacks the permission for the call.</exception>
    public async Task<NacosResponse> SendAsync(NacosRequest request, CancellationToken cancellationToken)
    {
        var start = Volatile.Read(ref _preferred);
        Exception? last = null;
        for (var i = 0; i < _servers.Length; i++)
        {
            var index = (start + i) % _servers.Length;
            var server = _servers[index];
            try
            {
                var response = await SendWithAuthAsync(server, request, cancellationToken).ConfigureAwait(false);
                if (IsServerDown(response.StatusCode))
                {
                    Log.ServerError(_logger, server, request.Path, (int)response.StatusCode);
                    NacosMetrics.ServerFailed(server);
                    last = new HttpRequestException($"Nacos server {server} answered {(int)response.StatusCode}.");
                    continue;
                }

                if (index != start)
                {
                    Interlocked.CompareExchange(ref _preferred, index, start);
                    Log.FailedOver(_logger, server);
                }

                if (response.StatusCode == HttpStatusCode.Gone)
                {
                    throw ApiGone(server, request.Method + " " + request.Path);
                }

                if ((int)response.StatusCode >= 500)
                {
                    // Nacos answers 500 for errors of one request (naming/.../core/InstanceOperatorClientImpl.java: a beat
                    // for an unknown service throws NacosException(SERVER_ERROR), which ResponseExceptionHandler turns
                    // into status 500): the server is up, so neither another server nor the outage state
                    // (RecoveryGrace) is the answer.
                    Log.RequestFailedOnServer(_logger, server, request.Path, (int)response.StatusCode);
                }

                return response;
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken))
            {
                Log.ServerUnreachable(_logger, server, request.Path, ex.Message);
                NacosMetrics.ServerFailed(server);
                last = ex;
            }
        }

        Interlocked.Increment(ref _outageCount);
        throw new NacosUnavailableException(
            $"No Nacos server answered {request.Method} {request.Path} (tried {string.Join(", ", (IEnumerable<Uri>)_servers)}).", last);
    }

    /// <summary>
    /// The access token for calls that do not go through <see cref="SendAsync"/> (the gRPC transport's token seam):
    /// null without <c>nacos:UserName</c>; else the current token, logging in (first server that answers) when there is
    /// none or it is due for refresh.
    /// </summary>
    public async ValueTask<string?> GetAccessTokenAsync(CancellationToken cancellationToken)
    {
        if (_userName is null)
        {
            return null;
        }

        Exception? last = null;
        var start = Volatile.Read(ref _preferred);
        for (var i = 0; i < _servers.Length; i++)
        {
            var server = _servers[(start + i) % _servers.Length];
            try
            {
                return (await GetTokenAsync(server, null, cancellationToken).ConfigureAwait(false)).AccessToken;
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken))
            {
                Log.ServerUnreachable(_logger, server, "login", ex.Message);
                last = ex;
            }
        }

        throw new NacosUnavailableException($"No Nacos server answered the login (tried {string.Join(", ", (IEnumerable<Uri>)_servers)}).", last);
    }

    /// <summary>
    /// After a gRPC answer with errorCode 403 to a call that carried <paramref name="rejected"/>: the token to retry
    /// with once, or null when there is none to try (no credentials, or <paramref name="rejected"/> is what a re-login
    /// just gave: a missing permission, not an expired token; the same 60 s window as over HTTP).
    /// </summary>
    public async ValueTask<string?> ReloginAsync(string rejected, CancellationToken cancellationToken)
    {
        var current = _token;
        if (_userName is null || current is null)
        {
            return null;
        }

        if (!string.Equals(current.AccessToken, rejected, StringComparison.Ordinal))
        {
            // Another call logged in meanwhile: retry with its token.
            return current.AccessToken;
        }

        if (!current.MayRelogin(_time.GetUtcNow()))
        {
            return null;
        }

        Exception? last = null;
        var start = Volatile.Read(ref _preferred);
        for (var i = 0; i < _servers.Length; i++)
        {
            var server = _servers[(start + i) % _servers.Length];
            try
            {
                Log.GrpcTokenRejected(_logger, server);
                return (await GetTokenAsync(server, current, cancellationToken).ConfigureAwait(false)).AccessToken;
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken))
            {
                Log.ServerUnreachable(_logger, server, "login", ex.Message);
                last = ex;
            }
        }

        throw new NacosUnavailableException($"No Nacos server answered the login (tried {string.Join(", ", (IEnumerable<Uri>)_servers)}).", last);
    }

    /// <summary>The configured user, for error messages (never the password).</summary>
    public string? UserName => _userName;

    /// <summary>
    /// Only these mean "this server is down, try the next": a proxy in front of a dead server (502, 504) or a server
    /// that is starting or shedding load (503, naming/.../web/TrafficReviseFilter.java: "server is STARTING now").
    /// </summary>
    internal static bool IsServerDown(HttpStatusCode status) =>
        status is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }

        _loginLock.Dispose();
    }

    private static bool IsTransient(Exception ex, CancellationToken cancellationToken) =>
        ex is HttpRequestException or NacosUnavailableException or IOException
        || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private async Task<NacosResponse> SendWithAuthAsync(Uri server, NacosRequest request, CancellationToken cancellationToken)
    {
        if (_userName is null)
        {
            return await SendOnceAsync(server, request, null, cancellationToken).ConfigureAwait(false);
        }

        var token = await GetTokenAsync(server, null, cancellationToken).ConfigureAwait(false);
        var response = await SendOnceAsync(server, request, token.AccessToken, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Forbidden)
        {
            return response;
        }

        // A 403 is an expired or no longer known token (server restarted with a new secret) or a user without the
        // permission for this resource (core/.../auth/AbstractWebAuthFilter.java answers both 403). Log in again once
        // per token; a token that a re-login just produced is not re-tested for a while, or a call the user may not
        // make would log in on every attempt, forever.
        if (!token.MayRelogin(_time.GetUtcNow()))
        {
            throw PermissionDenied(server, request, response);
        }

        Log.TokenRejected(_logger, server, request.Path);
        token = await GetTokenAsync(server, token, cancellationToken).ConfigureAwait(false);
        response = await SendOnceAsync(server, request, token.AccessToken, cancellationToken).ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.Forbidden ? throw PermissionDenied(server, request, response) : response;
    }

    /// <summary>The current token, or a new one; <paramref name="rejected"/> is the token a 403 answered.</summary>
    private async Task<TokenState> GetTokenAsync(Uri server, TokenState? rejected, CancellationToken cancellationToken)
    {
        var seen = _token;
        if (rejected is null && seen is not null && _time.GetUtcNow() < seen.RefreshAt)
        {
            return seen;
        }

        await _loginLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Another caller may have logged in while this one waited.
            var latest = _token;
            if (latest is not null && !ReferenceEquals(latest, rejected ?? seen) && _time.GetUtcNow() < latest.RefreshAt)
            {
                return latest;
            }

            var state = await LoginAsync(server, fromRelogin: rejected is not null, cancellationToken).ConfigureAwait(false);
            _token = state;
            return state;
        }
        finally
        {
            _loginLock.Release();
        }
    }

    private async Task<TokenState> LoginAsync(Uri server, bool fromRelogin, CancellationToken cancellationToken)
    {
        // client-basic/.../auth/impl/process/HttpLoginProcessor.java: the official client posts to /v3/auth/user/login
        // and, on 404 or 501, to /v1/auth/users/login (served by 1.x to 3.x; /v1/auth/login is its older alias). 410 is
        // a 3.x server with one of them switched off (ApiCompatibilityFilter).
        NacosResponse response = default;
        foreach (var path in LoginPaths)
        {
            response = await SendOnceAsync(server, Login(path), null, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode is not (HttpStatusCode.NotFound or HttpStatusCode.Gone or HttpStatusCode.NotImplemented))
            {
                break;
            }

            Log.LoginPathNotServed(_logger, server, path, (int)response.StatusCode);
        }

        if (IsServerDown(response.StatusCode))
        {
            throw new HttpRequestException($"Nacos server {server} answered {(int)response.StatusCode} to login.");
        }

        if (response.StatusCode == HttpStatusCode.Gone)
        {
            throw ApiGone(server, "the login");
        }

        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.NotImplemented)
        {
            throw new NacosProtocolException(
                $"Nacos server {server} serves no login ({string.Join(", ", LoginPaths)} answered {(int)response.StatusCode}): is it a Nacos server, with the right context path? Check nacos:ServerAddresses.")
            {
                StatusCode = (int)response.StatusCode,
            };
        }

        if ((int)response.StatusCode >= 500)
        {
            throw new NacosProtocolException(
                $"Nacos server {server} failed the login of user '{_userName}': {(int)response.StatusCode} {Naming.NacosNamingClient.Truncate(response.Body)}")
            {
                StatusCode = (int)response.StatusCode,
            };
        }

        if (!response.IsSuccess)
        {
            Log.LoginFailed(_logger, server, (int)response.StatusCode, _userName!);
            throw new NacosAuthenticationException(
                $"Nacos server {server} refused the login of user '{_userName}' ({(int)response.StatusCode}). Check nacos:UserName and nacos:Password.")
            {
                StatusCode = (int)response.StatusCode,
            };
        }

        var token = NacosJson.ParseLogin(response.Body)
            ?? throw new HttpRequestException($"Nacos server {server} answered the login with an unreadable body.");
        var ttl = TimeSpan.FromSeconds(Math.Max(token.TokenTtlSeconds, 1) * 0.9);
        var now = _time.GetUtcNow();
        Log.LoggedIn(_logger, server, _userName!, token.TokenTtlSeconds);
        return new TokenState(token.AccessToken, now + (ttl < MaxTokenRefresh ? ttl : MaxTokenRefresh), now, fromRelogin);
    }

    private NacosRequest Login(string path) => new NacosRequest(HttpMethod.Post, path)
        .WithForm("username", _userName)
        .WithForm("password", _password);

    private NacosAuthenticationException PermissionDenied(Uri server, NacosRequest request, NacosResponse response)
    {
        var call = request.Method + " " + request.Path + Describe(request);
        Log.PermissionDenied(_logger, server, call, _userName!);
        return new NacosAuthenticationException(
            $"Nacos server {server} refused {call} to user '{_userName}' with 403 although its login is valid and fresh: the user lacks the permission for this resource "
            + $"({Naming.NacosNamingClient.Truncate(response.Body)}). Give the user's role read (and, to register or publish, write) permission on the namespace in the Nacos console, or use another nacos:UserName.")
        {
            StatusCode = 403,
        };
    }

    private NacosProtocolException ApiGone(Uri server, string call)
    {
        Log.ApiGone(_logger, server, call);
        return new NacosProtocolException(
            $"Nacos server {server} answered 410 Gone to {call}: it has the v1 Open API switched off (Nacos 3.0/3.1 with nacos.core.api.compatibility.client.enabled=false, "
            + "or a Nacos 3.2+ server, which no longer serves it). Naming and configuration then use the server's v3 client API where it answers; "
            + "otherwise set nacos.core.api.compatibility.client.enabled=true on the server, or open its gRPC port (nacos:Transport Auto / Grpc).")
        {
            StatusCode = 410,
        };
    }

    /// <summary>Names what a call was about (dataId / service), from its parameters; never a credential or token.</summary>
    private static string Describe(NacosRequest request)
    {
        var builder = new StringBuilder();
        Append(builder, request.Query);
        if (request.Form is not null)
        {
            Append(builder, request.Form);
        }

        return builder.Length == 0 ? string.Empty : builder.Append(')').ToString();

        static void Append(StringBuilder builder, List<KeyValuePair<string, string>> parameters)
        {
            foreach (var pair in parameters)
            {
                if (pair.Key is "dataId" or "group" or "tenant" or "serviceName" or "namespaceId" && pair.Value.Length > 0)
                {
                    builder.Append(builder.Length == 0 ? " (" : ", ").Append(pair.Key).Append(" '").Append(pair.Value).Append('\'');
                }
            }
        }
    }

    private async Task<NacosResponse> SendOnceAsync(Uri server, NacosRequest request, string? accessToken, CancellationToken cancellationToken)
    {
        var uri = BuildUri(server, request, accessToken);
        using var message = new HttpRequestMessage(request.Method, uri);
        message.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        message.Headers.TryAddWithoutValidation("Client-Version", UserAgent);
        foreach (var header in request.Headers)
        {
            message.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        if (request.Form is not null)
        {
            message.Content = new FormUrlEncodedContent(request.Form);
        }

        using var timeout = new CancellationTokenSource(request.Timeout ?? _timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseContentRead, linked.Token).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(linked.Token).ConfigureAwait(false);
        return new NacosResponse(response.StatusCode, body, server);
    }

    private static Uri BuildUri(Uri server, NacosRequest request, string? accessToken)
    {
        var builder = new StringBuilder(server.AbsoluteUri).Append(request.Path);
        var separator = '?';
        foreach (var pair in request.Query)
        {
            builder.Append(separator).Append(Uri.EscapeDataString(pair.Key)).Append('=').Append(Uri.EscapeDataString(pair.Value));
            separator = '&';
        }

        if (accessToken is not null)
        {
            builder.Append(separator).Append("accessToken=").Append(Uri.EscapeDataString(accessToken));
        }

        return new Uri(builder.ToString());
    }

    // FromRelogin: obtained because a 403 answered the previous token.
    private sealed record TokenState(string AccessToken, DateTimeOffset RefreshAt, DateTimeOffset IssuedAt, bool FromRelogin)
    {
        /// <summary>
        /// A re-login just gave this token, so a 403 is a missing permission, not an expired token; after the window a
        /// 403 may log in again (a server restarted with a new secret), at most once per window, as the official client's
        /// NacosClientAuthServiceImpl (reLoginWindow, 60 s) does.
        /// </summary>
        public bool MayRelogin(DateTimeOffset now) => !FromRelogin || now - IssuedAt >= ReloginWindow;
    }
}
