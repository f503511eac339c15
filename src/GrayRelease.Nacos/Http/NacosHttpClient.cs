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

    private static readonly TimeSpan MaxTokenRefresh = TimeSpan.FromHours(5);

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

    /// <summary>Sends <paramref name="request"/> to the first server that answers without a 5xx.</summary>
    /// <exception cref="NacosUnavailableException">Every server failed.</exception>
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
                if ((int)response.StatusCode >= 500)
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

        var token = await GetTokenAsync(server, forceLogin: false, cancellationToken).ConfigureAwait(false);
        var response = await SendOnceAsync(server, request, token, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Forbidden)
        {
            return response;
        }

        // The token may have expired early or the server restarted with a new secret: log in again once.
        Log.TokenRejected(_logger, server, request.Path);
        token = await GetTokenAsync(server, forceLogin: true, cancellationToken).ConfigureAwait(false);
        return await SendOnceAsync(server, request, token, cancellationToken).ConfigureAwait(false);
    }

    private async Task<string> GetTokenAsync(Uri server, bool forceLogin, CancellationToken cancellationToken)
    {
        var current = _token;
        if (!forceLogin && current is not null && _time.GetUtcNow() < current.RefreshAt)
        {
            return current.AccessToken;
        }

        await _loginLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Another caller may have logged in while this one waited.
            var latest = _token;
            if (latest is not null && !ReferenceEquals(latest, current) && _time.GetUtcNow() < latest.RefreshAt)
            {
                return latest.AccessToken;
            }

            var response = await SendOnceAsync(server, Login("v1/auth/login"), null, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                // Nacos 3 servers with the v1 open API switched off still offer the v3 login.
                response = await SendOnceAsync(server, Login("v3/auth/user/login"), null, cancellationToken).ConfigureAwait(false);
            }
            if ((int)response.StatusCode >= 500)
            {
                throw new HttpRequestException($"Nacos server {server} answered {(int)response.StatusCode} to login.");
            }

            if (!response.IsSuccess)
            {
                Log.LoginFailed(_logger, server, (int)response.StatusCode, _userName!);
                throw new NacosAuthenticationException(
                    $"Nacos server {server} refused the login of user '{_userName}' ({(int)response.StatusCode}). Check nacos:UserName and nacos:Password.");
            }

            var token = NacosJson.ParseLogin(response.Body)
                ?? throw new HttpRequestException($"Nacos server {server} answered the login with an unreadable body.");
            var ttl = TimeSpan.FromSeconds(Math.Max(token.TokenTtlSeconds, 1) * 0.9);
            var state = new TokenState(token.AccessToken, _time.GetUtcNow() + (ttl < MaxTokenRefresh ? ttl : MaxTokenRefresh));
            _token = state;
            Log.LoggedIn(_logger, server, _userName!, token.TokenTtlSeconds);
            return state.AccessToken;
        }
        finally
        {
            _loginLock.Release();
        }
    }

    private NacosRequest Login(string path) => new NacosRequest(HttpMethod.Post, path)
        .WithForm("username", _userName)
        .WithForm("password", _password);

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

    private sealed record TokenState(string AccessToken, DateTimeOffset RefreshAt);
}
