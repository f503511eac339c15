using System.Diagnostics;
using System.Net;
using System.Text.Json;
using GrayRelease.Nacos.Emulator.Tests.Support;

namespace GrayRelease.Nacos.Emulator.Tests;

public sealed class FaultTests : EmulatorTestBase
{
    private const string List = "v1/ns/instance/list?serviceName=order-app";

    [Fact]
    public async Task Server_errors_answer_500_with_a_body()
    {
        Emulator.Faults.ServerErrors = true;

        var body = await SendTextAsync(HttpMethod.Get, List, HttpStatusCode.InternalServerError);

        Assert.False(string.IsNullOrEmpty(body));
    }

    [Fact]
    public async Task Response_delay_slows_every_answer()
    {
        Emulator.Faults.ResponseDelay = TimeSpan.FromMilliseconds(700);
        var stopwatch = Stopwatch.StartNew();

        await SendTextAsync(HttpMethod.Get, List);

        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(650), $"answered after {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task Malformed_bodies_are_200_with_unparsable_json()
    {
        Emulator.RegisterInstance("order-app", "127.0.0.1", 7001);
        Emulator.Faults.MalformedBodies = true;

        var body = await SendTextAsync(HttpMethod.Get, List);

        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(body));
    }

    [Fact]
    public async Task Hang_never_answers_so_the_client_times_out_and_clearing_it_restores_answers()
    {
        Emulator.Faults.Hang = true;
        using var shortTimeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Http.GetAsync(List, shortTimeout.Token));
        var pending = Http.GetStringAsync(List, Timeout);
        Emulator.Faults.Hang = false;

        Assert.Contains("order-app", await pending.WaitAsync(TimeSpan.FromSeconds(15), Timeout), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Faults_only_hit_paths_under_the_prefix_when_one_is_set()
    {
        Emulator.Faults.ServerErrors = true;
        Emulator.Faults.PathPrefix = "/nacos/v1/cs/";

        await SendTextAsync(HttpMethod.Get, List);
        await SendTextAsync(HttpMethod.Get, "v1/cs/configs?dataId=a.yaml&group=DEFAULT_GROUP", HttpStatusCode.InternalServerError);
    }

    [Fact]
    public async Task Reset_switches_every_fault_off()
    {
        Emulator.Faults.ServerErrors = true;
        Emulator.Faults.MalformedBodies = true;
        Emulator.Faults.ResponseDelay = TimeSpan.FromSeconds(30);
        Emulator.Faults.PathPrefix = "/nacos/";

        Emulator.Faults.Reset();
        var list = await GetJsonAsync(List);

        Assert.Equal("DEFAULT_GROUP@@order-app", list.GetProperty("name").GetString());
        Assert.Equal(TimeSpan.Zero, Emulator.Faults.ResponseDelay);
        Assert.Null(Emulator.Faults.PathPrefix);
    }
}
