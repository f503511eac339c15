using Grpc.Core;
using GrayRelease.Nacos.Emulator.Tests.Support;
using GrayRelease.Testing;

namespace GrayRelease.Nacos.Emulator.Tests;

/// <summary>Connection-level faults: drop every connection, refuse new ones for a while, ConnectResetRequest.</summary>
public sealed class GrpcFaultTests : EmulatorTestBase
{
    private const string Register = "{\"headers\":{},\"namespace\":\"public\",\"serviceName\":\"user-app\",\"groupName\":\"DEFAULT_GROUP\",\"type\":\"registerInstance\","
        + "\"instance\":{\"ip\":\"10.0.0.5\",\"port\":7201,\"weight\":1.0,\"healthy\":true,\"enabled\":true,\"ephemeral\":true,\"clusterName\":\"DEFAULT\",\"metadata\":{}},\"module\":\"naming\"}";

    protected override void Configure(NacosEmulatorOptions options) => options.ServerLine = NacosServerLine.Nacos32;

    [Fact]
    public async Task Dropping_every_connection_closes_the_sockets_and_deregisters_their_instances()
    {
        await using var client = await NacosGrpcTestClient.ConnectAsync(Emulator.GrpcAddress!, "naming", Timeout);
        await client.CallAsync("InstanceRequest", Register, cancellationToken: Timeout);
        Assert.Single(Emulator.GetInstances("user-app"));

        Assert.Equal(1, Emulator.Faults.DropGrpcConnections());

        Assert.Empty(Emulator.GetInstances("user-app"));
        await Eventually.WaitUntilAsync(() => Emulator.GrpcConnections.Count == 0, "the dropped socket is gone", cancellationToken: Timeout);
    }

    [Fact]
    public async Task Rejected_connections_fail_until_the_fault_ends()
    {
        Emulator.Faults.RejectGrpcConnections(TimeSpan.FromMinutes(5));
        Assert.True(Emulator.Faults.RejectsGrpcConnections);
        await using (var refused = NacosGrpcTestClient.Create(Emulator.GrpcAddress!))
        {
            await Assert.ThrowsAsync<RpcException>(() => refused.CallAsync("ServerCheckRequest", "{}", cancellationToken: Timeout));
        }

        Emulator.Faults.RejectGrpcConnections(TimeSpan.Zero);
        await using var accepted = await NacosGrpcTestClient.ConnectAsync(Emulator.GrpcAddress!, "naming", Timeout);
        Assert.NotNull(accepted.ConnectionId);
    }

    [Fact]
    public async Task Reset_sends_ConnectResetRequest_to_every_connection()
    {
        await using var client = await NacosGrpcTestClient.ConnectAsync(Emulator.GrpcAddress!, "config", Timeout);

        Assert.Equal(1, await Emulator.Faults.ResetGrpcConnectionsAsync(Timeout));

        var reset = await client.WaitForAsync("ConnectResetRequest", Timeout);
        JsonShape.AssertSame(Fixtures.Json("grpc/ConnectResetRequest.noTarget.json"), reset);
    }

    [Fact]
    public async Task An_idle_connection_that_does_not_answer_client_detection_is_unregistered()
    {
        await using var client = await NacosGrpcTestClient.ConnectAsync(Emulator.GrpcAddress!, "naming", Timeout);
        client.AutoAnswer = false;
        await client.CallAsync("InstanceRequest", Register, cancellationToken: Timeout);

        Clock.Advance(TimeSpan.FromSeconds(21));

        await client.WaitForAsync("ClientDetectionRequest", Timeout);
        await Eventually.WaitUntilAsync(() => Emulator.GetInstances("user-app").Count == 0, "no detection answer within 5 s unregisters the connection", cancellationToken: Timeout);
    }
}
