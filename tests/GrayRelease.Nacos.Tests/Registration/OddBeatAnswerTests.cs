using System.Collections.Concurrent;
using GrayRelease.Nacos.Http;
using GrayRelease.Nacos.Naming;
using GrayRelease.Nacos.Registration;
using GrayRelease.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace GrayRelease.Nacos.Tests.Registration;

/// <summary>
/// A registry (or anything posing as one) that answers heartbeats with odd values, over real HTTP: a tiny Kestrel
/// server on loopback speaks the v1 naming calls; time is fake so a 60 s interval takes no real minute.
/// </summary>
public sealed class OddBeatAnswerTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly FakeLogCollector _logs = new();
    private readonly ConcurrentQueue<string> _calls = new();
    private WebApplication _stub = null!;
    private string _beatAnswer = "{}";
    private int _beatStatus = 200;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _stub = builder.Build();
        _stub.MapPost("/nacos/v1/ns/instance", () => Record("register", "ok"));
        _stub.MapDelete("/nacos/v1/ns/instance", () => Record("deregister", "ok"));
        _stub.MapPut("/nacos/v1/ns/instance/beat", () =>
        {
            _calls.Enqueue("beat");
            return Results.Content(Volatile.Read(ref _beatAnswer), "application/json", statusCode: Volatile.Read(ref _beatStatus));
        });
        await _stub.StartAsync();
    }

    public async Task DisposeAsync() => await _stub.DisposeAsync();

    private IResult Record(string call, string answer)
    {
        _calls.Enqueue(call);
        return Results.Text(answer);
    }

    private int Count(string call) => _calls.Count(c => c == call);

    private (NacosRegistrationService Service, NacosHttpClient Http) Build(bool enabled = true)
    {
        var options = new NacosOptions
        {
            ServerAddresses = [_stub.Urls.Single()],
            ServiceName = "worker",
            Ip = "10.0.0.9",
            Port = 9000,
            InstanceEnabled = enabled,
            DrainDelay = TimeSpan.Zero,

            // Fake time runs far ahead of real time here: keep per-call timeouts out of the way.
            DefaultTimeOut = 3_600_000,
        };
        var http = new NacosHttpClient(options, _time, new FakeLogger(_logs));
        var environment = new Mock<IHostEnvironment>();
        environment.SetupGet(e => e.ApplicationName).Returns("worker-app");
        var gray = new Mock<IOptionsMonitor<GrayReleaseOptions>>();
        gray.SetupGet(m => m.CurrentValue).Returns(new GrayReleaseOptions());
        var service = new NacosRegistrationService(
            new NacosNamingClient(http, options),
            Options.Create(options),
            gray.Object,
            new ServiceCollection().BuildServiceProvider(),
            environment.Object,
            _time,
            new FakeLogger<NacosRegistrationService>(_logs));
        return (service, http);
    }

    private async Task AdvanceUntilAsync(Func<bool> condition, string what) =>
        await Eventually.WaitUntilAsync(
            () =>
            {
                _time.Advance(TimeSpan.FromSeconds(1));
                return condition();
            },
            what,
            TimeSpan.FromSeconds(30));

    [Theory]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    [InlineData("5000000000")]
    [InlineData("9223372036854775807")]
    [InlineData("-5000")]
    [InlineData("0")]
    [InlineData("\"soon\"")]
    [InlineData("{}")]
    [InlineData("null")]
    public async Task An_odd_clientBeatInterval_neither_ends_heartbeats_nor_skips_deregistration(string interval)
    {
        Volatile.Write(ref _beatAnswer, "{\"clientBeatInterval\":" + interval + ",\"code\":10200,\"lightBeatEnabled\":true}");
        var (service, http) = Build();
        using (http)
        {
            await service.StartedAsync(CancellationToken.None);
            await Eventually.WaitUntilAsync(() => Count("register") == 1, "registered");

            // Every answer carries the odd value; beats must go on at a sane interval (at most a minute apart).
            await AdvanceUntilAsync(() => Count("beat") >= 3, "three heartbeats despite clientBeatInterval " + interval);
            await service.StoppingAsync(CancellationToken.None);

            Assert.Equal(1, Count("deregister"));
            await service.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(200, "not json at all")]
    [InlineData(200, "[1,2,3]")]
    [InlineData(400, "caused: Param 'beat' is illegal")]
    [InlineData(500, "service not found: DEFAULT_GROUP@@worker@public")]
    public async Task An_unreadable_or_refused_heartbeat_answer_neither_ends_heartbeats_nor_skips_deregistration(int status, string body)
    {
        Volatile.Write(ref _beatStatus, status);
        Volatile.Write(ref _beatAnswer, body);
        var (service, http) = Build();
        using (http)
        {
            await service.StartedAsync(CancellationToken.None);
            await Eventually.WaitUntilAsync(() => Count("register") == 1, "registered");

            await AdvanceUntilAsync(() => Count("beat") >= 3, "three heartbeats despite the answer " + body);
            await service.StoppingAsync(CancellationToken.None);

            Assert.Equal(1, Count("deregister"));
            await service.DisposeAsync();
        }
    }
}
