using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using GrayRelease.Nacos.Configuration;
using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Nacos.Http;
using GrayRelease.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GrayRelease.Nacos.Tests.Integration;

/// <summary>Where a real Nacos server answers differently from the happy path: 410, 403 without permission, 500 vs 503, foreign 404s.</summary>
public sealed class TransportHardeningTests : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _emulators = [];
    private readonly List<IDisposable> _disposables = [];
    private readonly FakeLogCollector _logs = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var disposable in _disposables)
        {
            disposable.Dispose();
        }

        foreach (var emulator in _emulators)
        {
            await emulator.DisposeAsync();
        }
    }

    private async Task<NacosEmulator> StartAsync(NacosEmulatorOptions? options = null)
    {
        var emulator = await NacosEmulator.StartAsync(options ?? new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2 });
        _emulators.Add(emulator);
        return emulator;
    }

    private static NacosRequest List(string service) => new NacosRequest(HttpMethod.Get, "v1/ns/instance/list")
        .WithQuery("serviceName", "DEFAULT_GROUP@@" + service)
        .WithQuery("namespaceId", "public");

    private static NacosOptions WithCredentials(NacosOptions options)
    {
        options.UserName = "nacos";
        options.Password = "nacos";
        return options;
    }

    private NacosHttpClient Http(NacosOptions options, HttpMessageHandler? handler = null, TimeProvider? time = null)
    {
        var http = new NacosHttpClient(options, time ?? TimeProvider.System, new FakeLogger(_logs), handler);
        _disposables.Add(http);
        return http;
    }

    // Issue 12 item 1: a 3.1 server with the v1 client API off (410) still serves its v3 client API: read over it.
    [Fact]
    public async Task A_410_on_a_3_1_server_moves_configuration_to_the_v3_client_api()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos31, AuthEnabled = true, V1ApiGone = true });
        nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 1");
        var config = new NacosConfigClient(Http(WithCredentials(TestSupport.Options(nacos))), new FakeLogger(_logs));

        Assert.Equal("a: 1", await config.GetAsync(new NacosConfigKey("a.yaml", "DEFAULT_GROUP", string.Empty), cts.Token));
        Assert.Null(await config.GetAsync(new NacosConfigKey("missing.yaml", "DEFAULT_GROUP", string.Empty), cts.Token));
        Assert.True(config.UsesV3);
        Assert.Single(_logs.GetSnapshot(), r => r.Id.Id == EventIds.V3ApiChosen);
    }

    // Item 10: Nacos 3.0/3.1 with nacos.core.api.compatibility.client.enabled=false answer 410 to every v1 call. Where
    // no v3 client API answers either (here: the 2 line, which has none), the 410 is the error.
    [Fact]
    public async Task A_410_says_the_v1_api_is_switched_off_not_that_the_password_is_wrong()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2, AuthEnabled = true, V1ApiGone = true });
        var http = Http(WithCredentials(TestSupport.Options(nacos)));

        var error = await Assert.ThrowsAnyAsync<NacosException>(() => new NacosConfigClient(http).GetAsync(new NacosConfigKey("a.yaml", "DEFAULT_GROUP", string.Empty), cts.Token));

        Assert.IsNotType<NacosAuthenticationException>(error);
        Assert.Equal(410, error.StatusCode);
        Assert.Contains("410", error.Message, StringComparison.Ordinal);
        Assert.Contains("nacos.core.api.compatibility.client.enabled", error.Message, StringComparison.Ordinal);
        Assert.Contains("gRPC", error.Message, StringComparison.Ordinal);
        // The 2 line has no v3 login either, so the v1 login is the call answered 410.
        Assert.Contains("410 Gone to the login", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("nacos:Password", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_410_on_a_naming_call_without_auth_is_the_same_clear_error()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2, V1ApiGone = true });
        var http = Http(TestSupport.Options(nacos));

        var error = await Assert.ThrowsAnyAsync<NacosException>(() => new Naming.NacosNamingClient(http, TestSupport.Options(nacos)).ListAsync("user-app", "DEFAULT_GROUP", 0, null, cts.Token));

        Assert.Equal(410, error.StatusCode);
        Assert.Contains("nacos.core.api.compatibility.client.enabled", error.Message, StringComparison.Ordinal);
        Assert.Contains("gRPC", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, http.OutageCount);
    }

    [Fact]
    public async Task A_410_on_a_3_1_server_moves_naming_to_the_v3_client_api()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos31, V1ApiGone = true });
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201, new Dictionary<string, string> { ["version"] = "V1" });
        var naming = new Naming.NacosNamingClient(Http(TestSupport.Options(nacos)), TestSupport.Options(nacos), new FakeLogger(_logs));

        var (info, body) = await naming.ListAsync("user-app", "DEFAULT_GROUP", 0, null, cts.Token);

        Assert.True(naming.UsesV3);
        Assert.Equal("V1", Assert.Single(info!.Hosts).Metadata["version"]);
        // The body is what the snapshot keeps: it must read back as the same list.
        Assert.Equal(7201, Assert.Single(GrayRelease.Nacos.Http.NacosJson.ParseServiceInfo(body)!.Hosts).Port);
        Assert.Single(_logs.GetSnapshot(), r => r.Id.Id == EventIds.V3ApiChosen);
    }

    // Item 11: HttpLoginProcessor (client-basic) posts to /v3/auth/user/login first, /v1/auth/users/login on 404 / 501.
    [Fact]
    public async Task Login_uses_the_v3_path_first_as_the_official_client_does()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos31, AuthEnabled = true });
        var handler = new RecordingHandler();
        var http = Http(WithCredentials(TestSupport.Options(nacos)), handler);

        var response = await http.SendAsync(List("a"), cts.Token);

        Assert.True(response.IsSuccess);
        var logins = handler.Requests.Where(r => r.Uri.AbsolutePath.EndsWith("/login", StringComparison.Ordinal)).ToList();
        Assert.Single(logins);
        Assert.Equal("/nacos/v3/auth/user/login", logins[0].Uri.AbsolutePath);
    }

    [Theory]
    [InlineData(404)]
    [InlineData(410)]
    [InlineData(501)]
    public async Task Login_falls_back_to_the_v1_users_path_when_the_v3_path_is_not_served(int status)
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos31, AuthEnabled = true });
        var handler = new PathStatusHandler("/nacos/v3/auth/user/login", (HttpStatusCode)status);
        var http = Http(WithCredentials(TestSupport.Options(nacos)), handler);

        var response = await http.SendAsync(List("a"), cts.Token);

        Assert.True(response.IsSuccess, $"status {response.StatusCode}");
        Assert.Equal(
            ["/nacos/v3/auth/user/login", "/nacos/v1/auth/users/login"],
            handler.Paths.Where(p => p.EndsWith("/login", StringComparison.Ordinal)).ToArray());
    }

    // Item 12: a 403 with a fresh token is a missing permission, not an expired token.
    [Fact]
    public async Task A_user_without_the_permission_gets_one_relogin_then_a_clear_error_and_no_login_loop()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos31, AuthEnabled = true });
        nacos.PublishConfig("secret.yaml", "DEFAULT_GROUP", "a: 1");
        nacos.Faults.PathPrefix = "/nacos/v1/cs/";
        nacos.Faults.PermissionDenied = true;
        var handler = new RecordingHandler();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var http = Http(WithCredentials(TestSupport.Options(nacos)), handler, clock);
        var config = new NacosConfigClient(http);
        var key = new NacosConfigKey("secret.yaml", "DEFAULT_GROUP", string.Empty);

        var error = await Assert.ThrowsAsync<NacosAuthenticationException>(() => config.GetAsync(key, cts.Token));
        Assert.Equal(2, handler.Count("/login"));
        for (var i = 0; i < 5; i++)
        {
            await Assert.ThrowsAsync<NacosAuthenticationException>(() => config.GetAsync(key, cts.Token));
        }

        var allowed = await http.SendAsync(List("a"), cts.Token);

        Assert.Equal(2, handler.Count("/login"));
        Assert.True(allowed.IsSuccess);
        Assert.Equal(403, error.StatusCode);
        Assert.Contains("v1/cs/configs", error.Message, StringComparison.Ordinal);
        Assert.Contains("secret.yaml", error.Message, StringComparison.Ordinal);
        Assert.Contains("permission", error.Message, StringComparison.Ordinal);
        Assert.Contains("'nacos'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("accessToken", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_the_relogin_window_a_403_may_log_in_again_once_so_a_restarted_server_is_survived()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos31, AuthEnabled = true });
        nacos.Faults.PermissionDenied = true;
        var handler = new RecordingHandler();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var http = Http(WithCredentials(TestSupport.Options(nacos)), handler, clock);
        await Assert.ThrowsAsync<NacosAuthenticationException>(() => http.SendAsync(List("a"), cts.Token));
        await Assert.ThrowsAsync<NacosAuthenticationException>(() => http.SendAsync(List("a"), cts.Token));
        Assert.Equal(2, handler.Count("/login"));

        clock.Advance(TimeSpan.FromMinutes(2));
        nacos.Faults.PermissionDenied = false;
        var response = await http.SendAsync(List("a"), cts.Token);

        Assert.True(response.IsSuccess);
        Assert.Equal(2, handler.Count("/login"));
        nacos.Faults.PermissionDenied = true;
        await Assert.ThrowsAsync<NacosAuthenticationException>(() => http.SendAsync(List("a"), cts.Token));
        Assert.Equal(3, handler.Count("/login"));
    }

    // h-nacos item 2: over gRPC as over HTTP, a 403 logs in again once; a 403 with the token that re-login just gave is a
    // missing permission: a clear error, and no further login for the re-login window.
    [Fact]
    public async Task Over_grpc_a_second_403_after_the_re_login_is_a_permission_error_without_more_logins()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos32, AuthEnabled = true });
        nacos.PublishConfig("secret.yaml", "DEFAULT_GROUP", "a: 1");
        nacos.PublishConfig("open.yaml", "DEFAULT_GROUP", "b: 2");
        var options = WithCredentials(TestSupport.Options(nacos));
        var logger = new FakeLogger(_logs);
        var http = Http(options);
        await using var transport = new GrpcConfigTransport(options, TimeProvider.System, logger, http.GetAccessTokenAsync, relogin: http.ReloginAsync);
        var secret = new NacosConfigKey("secret.yaml", "DEFAULT_GROUP", string.Empty);
        Assert.Equal("a: 1", await transport.GetAsync(secret, cts.Token));

        nacos.Faults.PathPrefix = "ConfigQueryRequest";
        nacos.Faults.PermissionDenied = true;
        var error = await Assert.ThrowsAsync<NacosAuthenticationException>(() => transport.GetAsync(secret, cts.Token));
        await Assert.ThrowsAsync<NacosAuthenticationException>(() => transport.GetAsync(secret, cts.Token));

        Assert.Equal(403, error.StatusCode);
        Assert.Contains("permission", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConfigQueryRequest", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("nacos:Password", error.Message, StringComparison.Ordinal);
        Assert.Single(_logs.GetSnapshot(), r => r.Id.Id == EventIds.GrpcTokenRejected);
        Assert.Equal(2, _logs.GetSnapshot().Count(r => r.Id.Id == EventIds.GrpcPermissionDenied));

        nacos.Faults.PermissionDenied = false;
        Assert.Equal("b: 2", await transport.GetAsync(new NacosConfigKey("open.yaml", "DEFAULT_GROUP", string.Empty), cts.Token));
    }

    // Item 13: only connection failures, timeouts and 502 / 503 / 504 mean "server down".
    [Fact]
    public async Task A_500_is_the_error_of_that_request_and_neither_fails_over_nor_counts_as_an_outage()
    {
        using var cts = TestSupport.Timeout();
        var erroring = await StartAsync();
        var healthy = await StartAsync();
        erroring.Faults.ServerErrors = true;
        var handler = new RecordingHandler();
        var options = TestSupport.Options(erroring, healthy);
        var http = Http(options, handler);

        var error = await Assert.ThrowsAsync<NacosProtocolException>(() => new Naming.NacosNamingClient(http, options).ListAsync("user-app", "DEFAULT_GROUP", 0, null, cts.Token));
        var response = await http.SendAsync(List("user-app"), cts.Token);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Contains("500", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, handler.CountTo(healthy.Port));
        Assert.Equal(0, http.OutageCount);
        Assert.DoesNotContain(_logs.GetSnapshot(), r => r.Id.Id == EventIds.FailedOver);
    }

    [Theory]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    public async Task A_502_503_or_504_fails_over_and_on_every_server_is_an_outage(int status)
    {
        using var cts = TestSupport.Timeout();
        var first = await StartAsync();
        var second = await StartAsync();
        first.Faults.ServerErrorStatusCode = status;
        first.Faults.ServerErrors = true;
        var http = Http(TestSupport.Options(first, second));

        var response = await http.SendAsync(List("user-app"), cts.Token);
        Assert.True(response.IsSuccess);
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.FailedOver);
        Assert.Equal(0, http.OutageCount);

        second.Faults.ServerErrorStatusCode = status;
        second.Faults.ServerErrors = true;
        await Assert.ThrowsAsync<NacosUnavailableException>(() => http.SendAsync(List("user-app"), cts.Token));

        Assert.Equal(1, http.OutageCount);
    }

    // Item 17: ConfigServletInner answers a missing config 404 with the body "config data not exist" (1.x to 3.x).
    [Fact]
    public async Task A_404_without_the_config_not_found_body_is_a_clear_error_not_a_missing_config()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartAsync();
        nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 1");
        var options = TestSupport.Options(nacos);
        options.ServerAddresses = [nacos.ServerAddress + "/not-nacos"];
        var config = new NacosConfigClient(Http(options));

        var error = await Assert.ThrowsAsync<NacosProtocolException>(() => config.GetAsync(new NacosConfigKey("a.yaml", "DEFAULT_GROUP", string.Empty), cts.Token));

        Assert.Equal(404, error.StatusCode);
        Assert.Contains("config data not exist", error.Message, StringComparison.Ordinal);
        Assert.Contains("3.2", error.Message, StringComparison.Ordinal);
        Assert.Contains("nacos:ServerAddresses", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_config_answered_as_the_server_does_is_still_not_found()
    {
        using var cts = TestSupport.Timeout();
        var nacos = await StartAsync();
        var config = new NacosConfigClient(Http(TestSupport.Options(nacos)));

        Assert.Null(await config.GetAsync(new NacosConfigKey("missing.yaml", "DEFAULT_GROUP", string.Empty), cts.Token));
    }

    [Fact]
    public async Task A_required_data_id_behind_a_foreign_404_does_not_say_publish_it()
    {
        var nacos = await StartAsync();
        var options = TestSupport.Options(nacos);
        options.ServerAddresses = [nacos.ServerAddress + "/not-nacos"];
        options.Listeners = [new NacosListenerOptions { DataId = "a.yaml" }];

        // A foreign 404 is an HTTP-path answer; gRPC has no context path (Auto would pick it on this server line).
        options.Transport = NacosTransport.Http;

        var error = Assert.Throws<InvalidOperationException>(() => Track(new ConfigurationBuilder().AddNacosConfiguration(options).Build()));

        Assert.DoesNotContain("Publish it", error.Message, StringComparison.Ordinal);
        Assert.Contains("404", error.Message, StringComparison.Ordinal);
    }

    // Item 9: the configuration path is built before DI; its transport messages must still reach the application's logs.
    [Fact]
    public async Task Config_path_failover_messages_reach_the_logger_attached_after_start_up()
    {
        using var cts = TestSupport.Timeout();
        var down = await StartAsync();
        var up = await StartAsync();
        up.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 1");
        await down.StopAsync(cts.Token);
        var options = TestSupport.Options(down, up);
        options.Listeners = [new NacosListenerOptions { DataId = "a.yaml" }];

        // The HTTP client's failover messages (events 1, 3) and the long poll's 503: the HTTP transport, pinned.
        options.Transport = NacosTransport.Http;
        var root = Track(new ConfigurationBuilder().AddNacosConfiguration(options).Build());
        Assert.Equal("1", root["a"]);

        var binder = new NacosConfigurationLoggerBinder(root, new LoggerFactory([new FakeLoggerProvider(_logs)]));
        await binder.StartAsync(cts.Token);

        // Written while the configuration was built, before any logger existed: kept and written on attach.
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.ServerUnreachable && r.Message.Contains(down.ServerAddress, StringComparison.Ordinal));
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.FailedOver && r.Category == "GrayRelease.Nacos.Http");

        // Written after attach, by the listener loop's own calls.
        up.Faults.PathPrefix = "/nacos/v1/cs/configs/listener";
        up.Faults.ServerErrorStatusCode = 503;
        up.Faults.ServerErrors = true;
        up.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 2");
        await Eventually.WaitUntilAsync(() => _logs.GetSnapshot().Any(r => r.Id.Id == EventIds.ServerError && r.Message.Contains(up.ServerAddress, StringComparison.Ordinal)), "the listener's 503 is logged");
    }

    // Item 4 (config part): the long-poll loop must not keep the first caller's gray tag and Activity forever.
    [Fact]
    public async Task The_config_listener_loop_carries_no_gray_tag_or_activity_of_the_caller_that_started_it()
    {
        var nacos = await StartAsync();
        nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 1");
        var options = TestSupport.Options(nacos);
        options.Listeners = [new NacosListenerOptions { DataId = "a.yaml" }];
        var capture = new ContextCapturingLoggerProvider();
        IConfigurationRoot root;
        using (GrayContext.Begin(GrayStatus.Gray))
        using (var activity = new Activity("first-request").Start())
        {
            root = Track(new ConfigurationBuilder()
                .AddNacosConfiguration(source =>
                {
                    source.Options = options;
                    source.LoggerFactory = new LoggerFactory([capture]);
                })
                .Build());
        }

        nacos.PublishConfig("a.yaml", "DEFAULT_GROUP", "a: 2");
        // The change is logged just before the data is swapped in: wait for both, not the log line alone.
        await Eventually.WaitUntilAsync(() => capture.Records.Any(r => r.EventId == EventIds.ConfigChanged) && root["a"] == "2", "the listener loop logs and applies the change");

        var changed = capture.Records.First(r => r.EventId == EventIds.ConfigChanged);
        Assert.Null(changed.Gray);
        Assert.Null(changed.ActivityName);
    }

    private IConfigurationRoot Track(IConfigurationRoot root)
    {
        _disposables.Add((IDisposable)root);
        return root;
    }

    /// <summary>Answers <paramref name="status"/> for one path without reaching the server; records every path.</summary>
    private sealed class PathStatusHandler(string path, HttpStatusCode status) : DelegatingHandler(new SocketsHttpHandler())
    {
        public ConcurrentQueue<string> Paths { get; } = new();

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Paths.Enqueue(request.RequestUri!.AbsolutePath);
            return request.RequestUri!.AbsolutePath == path
                ? Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent("not here") })
                : base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>Records, for every log call, the gray tag and Activity of the flow that logged it.</summary>
    private sealed class ContextCapturingLoggerProvider : ILoggerProvider, ILogger
    {
        public ConcurrentQueue<(int EventId, GrayStatus? Gray, string? ActivityName)> Records { get; } = new();

        public ILogger CreateLogger(string categoryName) => this;

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Records.Enqueue((eventId.Id, GrayContext.Current, Activity.Current?.OperationName));
    }
}
