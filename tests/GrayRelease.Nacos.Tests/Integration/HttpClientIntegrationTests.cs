using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Nacos.Http;
using GrayRelease.Nacos.Naming;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GrayRelease.Nacos.Tests.Integration;

public class HttpClientIntegrationTests
{
    private static NacosRequest List(string service) => new NacosRequest(HttpMethod.Get, "v1/ns/instance/list")
        .WithQuery("serviceName", "DEFAULT_GROUP@@" + service)
        .WithQuery("namespaceId", "public");

    [Fact]
    public async Task Calls_fail_over_to_the_next_server_and_stay_there()
    {
        using var cts = TestSupport.Timeout();
        await using var first = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2 }, cts.Token);
        await using var second = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2 }, cts.Token);
        second.RegisterInstance("user-app", "127.0.0.1", 7201);
        await first.StopAsync(cts.Token);
        var handler = new RecordingHandler();
        var logs = new FakeLogCollector();
        var (http, naming) = TestSupport.Clients(TestSupport.Options(first, second), new FakeLogger(logs), handler);
        using var _ = http;

        var (info, _) = await naming.ListAsync("user-app", "DEFAULT_GROUP", 0, null, cts.Token);
        var attemptsOnFirst = handler.CountTo(first.Port);
        await naming.ListAsync("user-app", "DEFAULT_GROUP", 0, null, cts.Token);

        Assert.Single(info!.Hosts);
        Assert.Equal(1, attemptsOnFirst);
        Assert.Equal(attemptsOnFirst, handler.CountTo(first.Port));
        Assert.Contains(logs.GetSnapshot(), r => r.Id.Id == EventIds.ServerUnreachable && r.Message.Contains(first.ServerAddress, StringComparison.Ordinal));
        Assert.Contains(logs.GetSnapshot(), r => r.Id.Id == EventIds.FailedOver);
    }

    [Fact]
    public async Task Unavailable_answers_and_timeouts_count_as_failures_and_all_failing_is_one_clear_exception()
    {
        using var cts = TestSupport.Timeout();
        await using var erroring = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2 }, cts.Token);
        await using var hanging = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos2 }, cts.Token);

        // 503 (a starting or overloaded server), not 500: a 500 is the error of one request, not a server down.
        erroring.Faults.ServerErrorStatusCode = 503;
        erroring.Faults.ServerErrors = true;
        hanging.Faults.Hang = true;
        var options = TestSupport.Options(erroring, hanging);
        options.DefaultTimeOut = 300;
        var (http, _) = TestSupport.Clients(options);
        using var _ = http;

        var error = await Assert.ThrowsAsync<NacosUnavailableException>(() => http.SendAsync(List("user-app"), cts.Token));

        Assert.Contains(erroring.ServerAddress, error.Message, StringComparison.Ordinal);
        Assert.Contains(hanging.ServerAddress, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_client_speaks_as_a_push_capable_csharp_client()
    {
        Assert.Matches(@"^Nacos-CSharp-Client:v(\d+)\.(\d+)\.(\d+)$", NacosHttpClient.UserAgent);
        var version = Version.Parse(NacosHttpClient.UserAgent["Nacos-CSharp-Client:v".Length..]);
        Assert.True(version >= new Version(0, 9, 0));
    }

    [Fact]
    public async Task With_auth_on_the_client_logs_in_and_sends_the_token()
    {
        using var cts = TestSupport.Timeout();
        await using var nacos = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos31, AuthEnabled = true, UserName = "nacos", Password = "s3cret-pw" }, cts.Token);
        nacos.RegisterInstance("user-app", "127.0.0.1", 7201);
        var options = TestSupport.Options(nacos);
        options.UserName = "nacos";
        options.Password = "s3cret-pw";
        var handler = new RecordingHandler();
        var logs = new FakeLogCollector();
        var (http, naming) = TestSupport.Clients(options, new FakeLogger(logs), handler);
        using var _ = http;

        var (info, _) = await naming.ListAsync("user-app", "DEFAULT_GROUP", 0, null, cts.Token);
        await naming.ListAsync("user-app", "DEFAULT_GROUP", 0, null, cts.Token);

        Assert.Single(info!.Hosts);
        Assert.Equal(1, handler.Count("/login"));
        Assert.All(handler.Requests.Where(r => r.Uri.AbsolutePath.EndsWith("/list", StringComparison.Ordinal)), r => Assert.Contains("accessToken=", r.Uri.Query, StringComparison.Ordinal));
        Assert.DoesNotContain(handler.Requests, r => r.Uri.Query.Contains("s3cret-pw", StringComparison.Ordinal));
        AssertNoSecrets(logs, handler, "s3cret-pw");
    }

    [Fact]
    public async Task Wrong_credentials_give_a_clear_error_without_the_password()
    {
        using var cts = TestSupport.Timeout();
        await using var nacos = await NacosEmulator.StartAsync(new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos31, AuthEnabled = true, UserName = "nacos", Password = "right" }, cts.Token);
        var options = TestSupport.Options(nacos);
        options.UserName = "nacos";
        options.Password = "wrong-pw";
        var logs = new FakeLogCollector();
        var (http, naming) = TestSupport.Clients(options, new FakeLogger(logs));
        using var _ = http;

        var error = await Assert.ThrowsAsync<NacosAuthenticationException>(() => naming.ListAsync("user-app", "DEFAULT_GROUP", 0, null, cts.Token));

        Assert.Contains("nacos:UserName", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-pw", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-pw", TestSupport.AllText(logs), StringComparison.Ordinal);
        Assert.Contains(logs.GetSnapshot(), r => r.Id.Id == EventIds.LoginFailed);
    }

    [Fact]
    public async Task The_token_is_refreshed_at_ninety_percent_of_its_ttl()
    {
        using var cts = TestSupport.Timeout();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var nacos = await NacosEmulator.StartAsync(
            new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos31, AuthEnabled = true, TokenTtl = TimeSpan.FromSeconds(100), TimeProvider = time }, cts.Token);
        var options = TestSupport.Options(nacos);
        options.UserName = "nacos";
        options.Password = "nacos";
        var handler = new RecordingHandler();
        var (http, _) = TestSupport.Clients(options, handler: handler, time: time);
        using var _ = http;

        await http.SendAsync(List("a"), cts.Token);
        time.Advance(TimeSpan.FromSeconds(85));
        await http.SendAsync(List("a"), cts.Token);
        Assert.Equal(1, handler.Count("/login"));
        time.Advance(TimeSpan.FromSeconds(6));
        var response = await http.SendAsync(List("a"), cts.Token);

        Assert.True(response.IsSuccess);
        Assert.Equal(2, handler.Count("/login"));
    }

    [Fact]
    public async Task A_rejected_token_triggers_one_new_login_and_a_retry()
    {
        using var cts = TestSupport.Timeout();
        var serverTime = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var nacos = await NacosEmulator.StartAsync(
            new NacosEmulatorOptions { ServerLine = NacosServerLine.Nacos31, AuthEnabled = true, Password = "pw-403", TokenTtl = TimeSpan.FromSeconds(100), TimeProvider = serverTime }, cts.Token);
        var options = TestSupport.Options(nacos);
        options.UserName = "nacos";
        options.Password = "pw-403";
        var handler = new RecordingHandler();
        var logs = new FakeLogCollector();

        // The client's clock stands still, so it believes its token is fresh; the server's clock says it expired.
        var (http, _) = TestSupport.Clients(options, new FakeLogger(logs), handler, new FakeTimeProvider(DateTimeOffset.UtcNow));
        using var _ = http;
        await http.SendAsync(List("a"), cts.Token);
        serverTime.Advance(TimeSpan.FromSeconds(101));

        var response = await http.SendAsync(List("a"), cts.Token);

        Assert.True(response.IsSuccess, $"status {response.StatusCode}");
        Assert.Equal(2, handler.Count("/login"));
        Assert.Contains(logs.GetSnapshot(), r => r.Id.Id == EventIds.TokenRejected);
        AssertNoSecrets(logs, handler, "pw-403");
    }

    private static void AssertNoSecrets(FakeLogCollector logs, RecordingHandler handler, string password)
    {
        var text = TestSupport.AllText(logs);
        Assert.DoesNotContain(password, text, StringComparison.Ordinal);
        Assert.NotEmpty(handler.ResponseBodies);
        foreach (var body in handler.ResponseBodies)
        {
            var token = NacosJson.ParseLogin(body)?.AccessToken;
            Assert.False(string.IsNullOrEmpty(token));
            Assert.DoesNotContain(token, text, StringComparison.Ordinal);
        }
    }
}
