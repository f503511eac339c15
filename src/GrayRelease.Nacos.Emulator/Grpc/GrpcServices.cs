using System.Text.Json;
using Grpc.Core;
using GrayRelease.Nacos.Emulator.Diagnostics;
using GrayRelease.Nacos.Emulator.Grpc.Protocol;
using GrayRelease.Nacos.Emulator.Http;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Emulator.Grpc;

/// <summary>What the gRPC services share (they are created per call by Grpc.AspNetCore).</summary>
internal sealed record GrpcServerState(GrpcConnections Connections, GrpcDispatcher Dispatcher, NacosEmulatorOptions Options, ILogger Logger);

/// <summary><c>/Request/request</c>: every client RPC, attributed to the connection by its socket (GrpcConnectionInterceptor.java).</summary>
internal sealed class RequestService : Request.RequestBase
{
    private readonly GrpcServerState _state;

    public RequestService(GrpcServerState state) => _state = state;

    public override Task<Payload> request(Payload request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var connection = _state.Connections.Find(context.GetHttpContext().Connection.Id);
        try
        {
            return Task.FromResult(_state.Dispatcher.Handle(request, connection));
        }
#pragma warning disable CA1031 // Like the server: any failure becomes an ErrorResponse, never a broken call.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            var type = request.Metadata?.Type ?? string.Empty;
            Log.GrpcCallFailed(_state.Logger, type, exception);
            return Task.FromResult(GrpcJson.Error(GrpcJson.ResultFail, GrpcJson.ResultFail, exception.Message));
        }
    }
}

/// <summary>
/// <c>/BiRequestStream/requestBiStream</c> (core/remote/grpc/GrpcBiStreamRequestAcceptor.java): the setup, then the
/// client's answers to server requests; anything else on it is logged and dropped.
/// </summary>
internal sealed class BiStreamService : BiRequestStream.BiRequestStreamBase
{
    private readonly GrpcServerState _state;

    public BiStreamService(GrpcServerState state) => _state = state;

    public override async Task requestBiStream(IAsyncStreamReader<Payload> requestStream, IServerStreamWriter<Payload> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var connection = _state.Connections.Find(context.GetHttpContext().Connection.Id);
        if (connection is null || connection.IsClosed)
        {
            return;
        }

        connection.AttachStream(responseStream);
        try
        {
            while (await requestStream.MoveNext(context.CancellationToken).ConfigureAwait(false))
            {
                await OnMessageAsync(connection, requestStream.Current, context.CancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or RpcException or InvalidOperationException)
        {
            // The client went away, or the connection was closed: the socket's end unregisters it.
        }
        finally
        {
            connection.DetachStream(responseStream);
        }
    }

    private async Task OnMessageAsync(GrpcConnection connection, Payload payload, CancellationToken cancellationToken)
    {
        var type = payload.Metadata?.Type ?? string.Empty;
        JsonDocument document;
        try
        {
            var bytes = payload.Body?.Value;
            document = JsonDocument.Parse(bytes is null ? ReadOnlyMemory<byte>.Empty : bytes.Memory);
        }
        catch (JsonException)
        {
            Log.GrpcStreamMessageIgnored(_state.Logger, connection.Id, type);
            return;
        }

        using (document)
        {
            var body = document.RootElement;
            if (body.ValueKind != JsonValueKind.Object)
            {
                Log.GrpcStreamMessageIgnored(_state.Logger, connection.Id, type);
            }
            else if (string.Equals(type, "ConnectionSetupRequest", StringComparison.Ordinal))
            {
                await SetupAsync(connection, payload, body, cancellationToken).ConfigureAwait(false);
            }
            else if (type.EndsWith("Response", StringComparison.Ordinal))
            {
                // The waiter reads it after this document is disposed.
                _state.Connections.OnClientAnswer(connection, body.Clone());
            }
            else
            {
                Log.GrpcStreamMessageIgnored(_state.Logger, connection.Id, type);
            }
        }
    }

    /// <summary>Registers the connection, then (only when the client sent an abilityTable) writes SetupAckRequest.</summary>
    private async Task SetupAsync(GrpcConnection connection, Payload payload, JsonElement body, CancellationToken cancellationToken)
    {
        var labels = GrpcJson.StringMap(body, "labels") ?? [];
        connection.Setup(labels, payload.Metadata?.ClientIp ?? string.Empty, GrpcJson.String(body, "clientVersion") ?? string.Empty);
        Log.GrpcSetup(_state.Logger, connection.Id, labels.GetValueOrDefault("module") ?? "(none)", connection.ClientVersion);
        if (!body.TryGetProperty("abilityTable", out var abilities) || abilities.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        // The server's abilities (api/ability/register/impl/ServerAbilities.java); no requestId, no answer expected.
        var ack = JsonOutput.ToBytes(writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartObject("headers");
            writer.WriteEndObject();
            writer.WriteStartObject("abilityTable");
            writer.WriteBoolean("supportPersistentInstanceByGrpc", true);
            if (_state.Options.ServerLine is NacosServerLine.Nacos31 or NacosServerLine.Nacos32)
            {
                writer.WriteBoolean("fuzzyWatch", true);
                writer.WriteBoolean("lock", true);
                writer.WriteBoolean("mcp", true);
            }

            writer.WriteEndObject();
            writer.WriteString("module", "internal");
            writer.WriteEndObject();
        });
        await connection.WriteAsync(GrpcJson.ToPayload("SetupAckRequest", ack), cancellationToken).ConfigureAwait(false);
    }
}
