using System.Net;
using System.Text.Json;
using GrayRelease.Nacos.Emulator;
using GrayRelease.Testing;

namespace GrayRelease.Rollouts.Tests;

/// <summary>MapGrayReleaseRollout over real HTTP: the status JSON and the commands, with the state in the emulator.</summary>
public sealed class EndpointTests : IAsyncLifetime, IDisposable
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private NacosEmulator _nacos = null!;
    private Backend _v1 = null!;
    private Backend _v2 = null!;

    public async Task InitializeAsync()
    {
        _nacos = await NacosEmulator.StartAsync();
        _v1 = await Backend.StartAsync("V1", _timeout.Token);
        _v2 = await Backend.StartAsync("V2", _timeout.Token);
    }

    public async Task DisposeAsync()
    {
        await _v1.DisposeAsync();
        await _v2.DisposeAsync();
        await _nacos.DisposeAsync();
    }

    public void Dispose() => _timeout.Dispose();

    [Fact]
    public async Task Status_is_JSON_and_pause_resume_abort_change_the_state_in_Nacos()
    {
        await using var gateway = await GatewayReplica.StartAsync(_nacos, _v1.Address, _v2.Address, new() { ["Interval"] = "00:10:00" }, _timeout.Token);
        // The gateway's own view, not only Nacos: it publishes its snapshot at the end of the tick that wrote the state.
        await Eventually.WaitUntilAsync(() => gateway.Engine.GetSnapshot().Status == RolloutStatus.Progressing, "the gateway's own snapshot says Progressing", TimeSpan.FromSeconds(60), _timeout.Token);

        using var status = JsonDocument.Parse(await gateway.Client.GetStringAsync(new Uri("/_gray/rollout", UriKind.Relative), _timeout.Token));
        Assert.Equal("Progressing", status.RootElement.GetProperty("status").GetString());
        Assert.Equal(1, status.RootElement.GetProperty("percentage").GetDouble());
        Assert.Equal(5, status.RootElement.GetProperty("steps").GetArrayLength());
        Assert.Equal("V2", status.RootElement.GetProperty("grayVersion").GetString());

        Assert.Equal(HttpStatusCode.OK, await PostAsync(gateway, "pause"));
        Assert.Equal(RolloutStatus.Paused, RolloutRig.State(_nacos)!.Status);
        Assert.Equal(HttpStatusCode.Conflict, await PostAsync(gateway, "pause"));
        Assert.Equal(HttpStatusCode.OK, await PostAsync(gateway, "resume"));
        Assert.Equal(HttpStatusCode.OK, await PostAsync(gateway, "abort"));
        Assert.Equal(RolloutStatus.RolledBack, RolloutRig.State(_nacos)!.Status);

        // Promoting what was rolled back makes no sense: 409 with why and what to do instead, and nothing changes.
        using (var promote = await gateway.Client.PostAsync(new Uri("/_gray/rollout/promote", UriKind.Relative), null, _timeout.Token))
        {
            Assert.Equal(HttpStatusCode.Conflict, promote.StatusCode);
            using var problem = JsonDocument.Parse(await promote.Content.ReadAsStringAsync(_timeout.Token));
            var detail = problem.RootElement.GetProperty("detail").GetString()!;
            Assert.Contains("RolledBack", detail, StringComparison.Ordinal);
            Assert.Contains("new gray version", detail, StringComparison.Ordinal);
        }

        Assert.Equal(RolloutStatus.RolledBack, RolloutRig.State(_nacos)!.Status);
        Assert.Equal(HttpStatusCode.NotFound, await PostAsync(gateway, "explode"));
        Assert.Contains("operator at 127.0.0.1", RolloutRig.State(_nacos)!.History[^1].Reason, StringComparison.Ordinal);
    }

    private async Task<HttpStatusCode> PostAsync(GatewayReplica gateway, string command)
    {
        using var response = await gateway.Client.PostAsync(new Uri("/_gray/rollout/" + command, UriKind.Relative), null, _timeout.Token);
        return response.StatusCode;
    }
}
