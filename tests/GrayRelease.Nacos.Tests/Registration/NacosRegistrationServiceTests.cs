using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Http;
using GrayRelease.Nacos.Naming;
using GrayRelease.Nacos.Registration;
using GrayRelease.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace GrayRelease.Nacos.Tests.Registration;

public sealed class NacosRegistrationServiceTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly StubNacos _server;
    private readonly FakeLogCollector _logs = new();
    private readonly NacosRegistrationService _service;
    private readonly NacosHttpClient _http;
    private readonly FakeLogger<NacosRegistrationService> _logger;

    public NacosRegistrationServiceTests()
    {
        _server = new StubNacos(_time);

        // No web server here: nacos:Ip / Port give the address, as for a worker service.
        var options = new NacosOptions
        {
            ServerAddresses = ["http://127.0.0.1:8848"],
            ServiceName = "worker",
            Ip = "10.0.0.9",
            Port = 9000,
            DrainDelay = TimeSpan.FromSeconds(5),
        };
        _http = new NacosHttpClient(options, _time, new FakeLogger(_logs), _server);
        var environment = new Mock<IHostEnvironment>();
        environment.SetupGet(e => e.ApplicationName).Returns("worker-app");
        var gray = new Mock<IOptionsMonitor<GrayReleaseOptions>>();
        gray.SetupGet(m => m.CurrentValue).Returns(new GrayReleaseOptions { Version = "V7", MetadataKey = "ver" });
        _logger = new FakeLogger<NacosRegistrationService>(_logs);
        _service = new NacosRegistrationService(
            new NacosNamingClient(_http, options),
            Options.Create(options),
            gray.Object,
            new ServiceCollection().BuildServiceProvider(),
            environment.Object,
            _time,
            _logger);
    }

    public async ValueTask DisposeAsync()
    {
        await _service.DisposeAsync();
        _http.Dispose();
    }

    [Fact]
    public async Task Registration_uses_the_configured_address_and_the_version_under_the_metadata_key()
    {
        await _service.StartedAsync(CancellationToken.None);

        await Eventually.WaitUntilAsync(() => _server.Count(HttpMethod.Post) == 1, "the instance is registered");
        var query = _server.Requests.First(r => r.Method == HttpMethod.Post).Query;
        Assert.Contains("ip=10.0.0.9", query, StringComparison.Ordinal);
        Assert.Contains("port=9000", query, StringComparison.Ordinal);
        Assert.Contains("serviceName=DEFAULT_GROUP%40%40worker", query, StringComparison.Ordinal);
        Assert.Contains(Uri.EscapeDataString("{\"ver\":\"V7\"}"), query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Code_20404_in_a_heartbeat_registers_again()
    {
        _server.BeatCode = 20404;
        await _service.StartedAsync(CancellationToken.None);
        await Eventually.WaitUntilAsync(() => _server.Count(HttpMethod.Post) == 1, "the first registration");

        await Eventually.WaitUntilAsync(
            () =>
            {
                _time.Advance(TimeSpan.FromSeconds(1));
                return _server.Count(HttpMethod.Post) >= 2;
            },
            "a beat answered 20404 leads to a new registration");

        Assert.True(_server.Count(HttpMethod.Put) >= 1);
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.BeatUnknownInstance);
    }

    [Fact]
    public async Task Failed_registrations_retry_with_capped_exponential_backoff()
    {
        _server.FailRegistrations = 4;
        await _service.StartedAsync(CancellationToken.None);
        await Eventually.WaitUntilAsync(() => _server.Count(HttpMethod.Post) == 1, "the first attempt");

        // Fake time moves in 100 ms steps; each attempt records the fake time it was made at.
        await Eventually.WaitUntilAsync(
            () =>
            {
                _time.Advance(TimeSpan.FromMilliseconds(100));
                return _server.Count(HttpMethod.Post) == 5;
            },
            "the fifth attempt succeeds");

        var times = _server.Requests.Where(r => r.Method == HttpMethod.Post).Select(r => r.At).ToArray();
        var gaps = times.Zip(times.Skip(1), (a, b) => (b - a).TotalSeconds).ToArray();
        Assert.Equal(4, gaps.Length);
        foreach (var (gap, expected) in gaps.Zip(new[] { 1.0, 2.0, 4.0, 8.0 }))
        {
            Assert.InRange(gap, expected, expected + 0.5);
        }

        Assert.Equal(4, _logs.GetSnapshot().Count(r => r.Id.Id == EventIds.RegisterFailed));
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.Registered);
    }

    [Fact]
    public async Task Stopping_deregisters_and_then_waits_the_drain_delay()
    {
        await _service.StartedAsync(CancellationToken.None);
        await Eventually.WaitUntilAsync(() => _server.Count(HttpMethod.Post) == 1, "registered");

        var stopping = _service.StoppingAsync(CancellationToken.None);
        await Eventually.WaitUntilAsync(() => _server.Count(HttpMethod.Delete) == 1, "deregistered");
        await Eventually.WaitUntilAsync(() => _logs.GetSnapshot().Any(r => r.Id.Id == EventIds.Deregistered), "the drain starts");
        var drainStart = _time.GetUtcNow();
        await Eventually.WaitUntilAsync(
            () =>
            {
                var done = stopping.IsCompleted;
                _time.Advance(TimeSpan.FromMilliseconds(100));
                return done;
            },
            "the drain delay passes");

        Assert.InRange((_time.GetUtcNow() - drainStart).TotalSeconds, 5, 5.6);
        await stopping;
    }

    [Fact]
    public async Task The_registration_loop_inherits_no_gray_tag_activity_or_log_scope_from_its_starter()
    {
        // Started from inside a request: a gray tag, an Activity and a log scope are current.
        using (var activity = new Activity("incoming-request").Start())
        using (GrayContext.Begin(GrayStatus.Gray))
        using (_logger.BeginScope("request-scope"))
        {
            Assert.NotNull(Activity.Current);
            await _service.StartedAsync(CancellationToken.None);
        }

        await Eventually.WaitUntilAsync(() => _logs.GetSnapshot().Any(r => r.Id.Id == EventIds.Registered), "the instance is registered");
        await Eventually.WaitUntilAsync(
            () =>
            {
                _time.Advance(TimeSpan.FromSeconds(1));
                return _server.Count(HttpMethod.Put) >= 2;
            },
            "two heartbeats");

        Assert.All(_server.Contexts, c => Assert.Equal((null, null), c));
        var registered = _logs.GetSnapshot().First(r => r.Id.Id == EventIds.Registered);
        Assert.Empty(registered.Scopes);
    }

    [Fact]
    public async Task A_failed_heartbeat_is_retried_after_one_second_not_after_the_beat_interval()
    {
        await _service.StartedAsync(CancellationToken.None);
        await Eventually.WaitUntilAsync(() => _server.Count(HttpMethod.Post) == 1, "registered");
        _server.FailBeats = 1;

        // Fake time moves in 100 ms steps; each beat records the fake time it was sent at.
        await Eventually.WaitUntilAsync(
            () =>
            {
                _time.Advance(TimeSpan.FromMilliseconds(100));
                return _server.Count(HttpMethod.Put) >= 2;
            },
            "the beat after the failed one");

        var beats = _server.Requests.Where(r => r.Method == HttpMethod.Put).Select(r => r.At).ToArray();
        var gap = (beats[1] - beats[0]).TotalSeconds;
        Assert.InRange(gap, 1.0, 2.5);
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == EventIds.BeatFailed);
    }

    [Fact]
    public async Task Heartbeats_after_the_server_allows_light_beats_carry_no_beat_body()
    {
        await _service.StartedAsync(CancellationToken.None);
        await Eventually.WaitUntilAsync(
            () =>
            {
                _time.Advance(TimeSpan.FromSeconds(1));
                return _server.Count(HttpMethod.Put) >= 2;
            },
            "two heartbeats");

        var beats = _server.Requests.Where(r => r.Method == HttpMethod.Put).Select(r => r.Query).ToArray();
        Assert.Contains("beat=", beats[0], StringComparison.Ordinal);
        Assert.DoesNotContain("beat=", beats[1], StringComparison.Ordinal);
        Assert.Contains("ip=10.0.0.9", beats[1], StringComparison.Ordinal);
        Assert.Contains("port=9000", beats[1], StringComparison.Ordinal);
    }

    /// <summary>Answers like a Nacos server: register/deregister "ok", beats with <see cref="BeatCode"/>.</summary>
    private sealed class StubNacos(TimeProvider time) : HttpMessageHandler
    {
        public ConcurrentQueue<(HttpMethod Method, string Query, DateTimeOffset At)> Requests { get; } = new();

        public int BeatCode { get; set; } = 10200;

        public int FailRegistrations { get; set; }

        public int FailBeats { get; set; }

        /// <summary>The gray tag and the Activity current where each call was made.</summary>
        public ConcurrentQueue<(GrayStatus? Gray, string? Activity)> Contexts { get; } = new();

        public int Count(HttpMethod method) => Requests.Count(r => r.Method == method);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Enqueue((request.Method, request.RequestUri!.Query, time.GetUtcNow()));
            Contexts.Enqueue((GrayContext.Current, Activity.Current?.OperationName));
            if (request.Method == HttpMethod.Put && FailBeats > 0)
            {
                FailBeats--;
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Content = new StringContent("busy") });
            }

            if (request.Method == HttpMethod.Post && FailRegistrations > 0)
            {
                FailRegistrations--;
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Content = new StringContent("busy") });
            }

            var body = request.Method == HttpMethod.Put
                ? $"{{\"clientBeatInterval\":5000,\"code\":{BeatCode},\"lightBeatEnabled\":true}}"
                : "ok";
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body) });
        }
    }
}
