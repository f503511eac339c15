using System.Collections.Concurrent;
using GrayRelease.Nacos.Configuration;
using GrayRelease.Nacos.Diagnostics;
using GrayRelease.Nacos.Grpc;
using GrayRelease.Nacos.Grpc.Protocol;
using GrayRelease.Nacos.Http;
using GrayRelease.Testing;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.AspNetCore.Hosting;
using static GrayRelease.Nacos.Tests.TestSupport;

namespace GrayRelease.Nacos.Tests.Grpc;

/// <summary>The gRPC transport against a fake Nacos gRPC server over real HTTP/2 on loopback.</summary>
public sealed class NacosGrpcConnectionTests
{
    private static readonly InstanceRequest Register = new()
    {
        Namespace = "public",
        GroupName = "DEFAULT_GROUP",
        ServiceName = "user-app",
        Type = InstanceRequest.Register,
        Instance = new NacosGrpcInstance { Ip = "10.0.0.5", Port = 7201, ClusterName = "DEFAULT", Metadata = new() { ["version"] = "V1" } },
    };

    private static readonly ServiceQueryRequest Query = new() { Namespace = "public", GroupName = "DEFAULT_GROUP", ServiceName = "user-app", Cluster = "" };

    private readonly FakeLogger _logger = new();

    [Fact]
    public async Task Connects_with_server_check_then_setup_on_one_http2_connection()
    {
        await using var server = await FakeNacosGrpcServer.StartAsync();
        await using var connection = Create(server);

        Assert.True(await connection.WaitUntilConnectedAsync(Deadline, CancellationToken.None), "connected");

        var stream = await server.WaitForStreamAsync();
        var check = server.Requests.First();
        Assert.IsType<ServerCheckRequest>(check.Message);
        Assert.Single(server.Requests, r => r.Message is ServerCheckRequest);
        Assert.False(check.Headers.ContainsKey("accessToken"), "ServerCheck is not secured: no token");
        Assert.Equal(check.Connection, stream.Connection);
        var setup = stream.Setup!;
        Assert.Equal("naming", setup.Labels!["module"]);
        Assert.Equal("sdk", setup.Labels["source"]);
        Assert.Equal("grpc-test", setup.Labels["AppName"]);
        Assert.StartsWith("GrayRelease.Nacos:v", setup.ClientVersion, StringComparison.Ordinal);
        Assert.NotNull(setup.AbilityTable);
        Assert.Equal(string.Empty, setup.Tenant);
        Assert.Equal("10.1.2.3", stream.SetupClientIp);
        Assert.EndsWith("@" + stream.Connection, connection.ConnectionId, StringComparison.Ordinal);
        Assert.Equal(NacosGrpcConnectionState.Connected, connection.State);
        Assert.Equal(server.GrpcPort, connection.CurrentServer!.GrpcPort);
    }

    [Fact]
    public async Task Server_without_ability_negotiation_is_used_without_setup_ack()
    {
        await using var server = await FakeNacosGrpcServer.StartAsync();
        server.SupportAbilityNegotiation = false;
        await using var connection = Create(server);

        Assert.True(await connection.WaitUntilConnectedAsync(Deadline, CancellationToken.None), "connected to a 2.0-2.2 server");
        Assert.IsType<QueryServiceResponse>(await connection.RequestAsync<QueryServiceResponse>(Query, CancellationToken.None));
    }

    [Fact]
    public async Task Server_check_without_answer_in_time_is_a_failed_attempt()
    {
        await using var server = await FakeNacosGrpcServer.StartAsync();
        var hold = new TaskCompletionSource();
        server.BeforeAnswer = (r, ct) => r.Message is ServerCheckRequest ? hold.Task.WaitAsync(ct) : Task.CompletedTask;
        var options = Options(server.ServerAddress);
        await using var connection = new NacosGrpcConnection(options, _logger, settings: Settings(options) with { ServerCheckTimeout = TimeSpan.FromMilliseconds(300) });
        connection.Start();

        await Eventually.WaitUntilAsync(() => server.Requests.Count(r => r.Message is ServerCheckRequest) >= 2, "a second ServerCheck after the first timed out");
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Id == EventIds.GrpcConnectFailed && r.Message.Contains("did not answer ServerCheck within 300 ms", StringComparison.Ordinal));
        Assert.Empty(server.Streams);

        hold.SetResult();
        Assert.True(await connection.WaitUntilConnectedAsync(Deadline, CancellationToken.None), "connected once ServerCheck is answered");
    }

    [Fact]
    public async Task Setup_without_ack_is_dropped_and_retried()
    {
        await using var server = await FakeNacosGrpcServer.StartAsync();
        server.SendSetupAck = false;
        var options = Options(server.ServerAddress);
        await using var connection = new NacosGrpcConnection(options, _logger, settings: Settings(options) with { SetupAckTimeout = TimeSpan.FromMilliseconds(200) });
        connection.Start();

        await Eventually.WaitUntilAsync(() => server.Requests.Count(r => r.Message is ServerCheckRequest) >= 2, "a second attempt after the missing SetupAck");
        Assert.NotEqual(NacosGrpcConnectionState.Connected, connection.State);
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Id == EventIds.GrpcConnectFailed && r.Message.Contains("SetupAck", StringComparison.Ordinal));

        server.SendSetupAck = true;
        Assert.True(await connection.WaitUntilConnectedAsync(Deadline, CancellationToken.None), "connected once the server acks");
    }

    [Fact]
    public async Task Unary_request_carries_the_token_in_metadata_headers_on_the_stream_connection()
    {
        await using var server = await FakeNacosGrpcServer.StartAsync();
        await using var connection = Create(server, token: _ => ValueTask.FromResult<string?>("s3cr3t-token"));

        var response = await connection.RequestAsync<QueryServiceResponse>(Query, CancellationToken.None);

        Assert.Equal(2, response.ServiceInfo!.Hosts!.Count);
        var query = Assert.Single(server.Requests, r => r.Message is ServiceQueryRequest);
        Assert.Equal("s3cr3t-token", query.Headers["accessToken"]);
        Assert.Equal("10.1.2.3", query.ClientIp);
        Assert.Equal((await server.WaitForStreamAsync()).Connection, query.Connection);
        Assert.DoesNotContain("s3cr3t-token", AllText(_logger.Collector), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pushes_go_to_their_handlers_and_are_answered_with_the_same_request_id()
    {
        await using var server = await FakeNacosGrpcServer.StartAsync();
        await using var connection = Create(server);
        var services = new ConcurrentQueue<NacosGrpcServiceInfo>();
        var configs = new ConcurrentQueue<string>();
        using var naming = connection.OnPush<NotifySubscriberRequest>((push, _) =>
        {
            services.Enqueue(push.ServiceInfo!);
            return ValueTask.CompletedTask;
        });
        using var config = connection.OnPush<ConfigChangeNotifyRequest>((push, _) =>
        {
            configs.Enqueue(push.DataId!);
            return ValueTask.CompletedTask;
        });
        await connection.WaitUntilConnectedAsync(Deadline, CancellationToken.None);
        var stream = await server.WaitForStreamAsync();

        var push = (NotifySubscriberRequest)NacosGrpcCodec.Decode(FakeNacosGrpcServer.Fixture("NotifySubscriberRequest"));
        var answer = await stream.PushAsync(push);
        var notify = (ConfigChangeNotifyRequest)NacosGrpcCodec.Decode(FakeNacosGrpcServer.Fixture("ConfigChangeNotifyRequest"));
        var configAnswer = await stream.PushAsync(notify);

        Assert.IsType<NotifySubscriberResponse>(answer);
        Assert.True(answer.Success);
        Assert.IsType<ConfigChangeNotifyResponse>(configAnswer);
        Assert.Equal("user-app", Assert.Single(services).Name);
        Assert.Equal("gray-rules.json", Assert.Single(configs));
        var answers = server.StreamMessages.Select(m => m.Message).OfType<NacosGrpcResponse>().ToList();
        Assert.Equal(2, answers.Count);
        Assert.All(answers, a => Assert.True(long.TryParse(a.RequestId, out _), "answer echoes the decimal requestId"));
    }

    [Fact]
    public async Task Client_detection_is_answered_and_a_failing_push_handler_answers_an_error()
    {
        await using var server = await FakeNacosGrpcServer.StartAsync();
        await using var connection = Create(server);
        using var naming = connection.OnPush<NotifySubscriberRequest>((_, _) => throw new InvalidOperationException("cache is broken"));
        await connection.WaitUntilConnectedAsync(Deadline, CancellationToken.None);
        var stream = await server.WaitForStreamAsync();

        var detection = await stream.PushAsync(new ClientDetectionRequest());
        var failed = await stream.PushAsync((NotifySubscriberRequest)NacosGrpcCodec.Decode(FakeNacosGrpcServer.Fixture("NotifySubscriberRequest")));
        var again = await stream.PushAsync(new ClientDetectionRequest());

        Assert.IsType<ClientDetectionResponse>(detection);
        Assert.True(detection.Success);
        var error = Assert.IsType<ErrorResponse>(failed);
        Assert.Equal(NacosGrpcErrorCodes.ClientError, error.ErrorCode);
        Assert.IsType<ClientDetectionResponse>(again);
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Id == EventIds.GrpcPushHandlerFailed);
    }

    [Fact]
    public async Task Malformed_pushes_are_logged_and_the_connection_survives()
    {
        await using var server = await FakeNacosGrpcServer.StartAsync();
        await using var connection = Create(server);
        var handled = 0;
        using var naming = connection.OnPush<NotifySubscriberRequest>((_, _) =>
        {
            Interlocked.Increment(ref handled);
            return ValueTask.CompletedTask;
        });
        await connection.WaitUntilConnectedAsync(Deadline, CancellationToken.None);
        var stream = await server.WaitForStreamAsync();
        var connectionId = connection.ConnectionId;

        await stream.WriteAsync(Raw("NotifySubscriberRequest", "{\"requestId\":\"1\",\"serviceInfo\":{\"hosts\":[{\"port\":\"eighty\"}]}"));
        await stream.WriteAsync(Raw("NotifySubscriberRequest", "{not json"));
        await stream.WriteAsync(Raw("FuzzyWatchNotifyRequest", "{\"requestId\":\"2\"}"));
        await stream.WriteAsync(Raw("", string.Empty));
        var answer = await stream.PushAsync(new ClientDetectionRequest());

        Assert.IsType<ClientDetectionResponse>(answer);
        Assert.Equal(0, handled);
        Assert.Equal(connectionId, connection.ConnectionId);
        Assert.Single(server.Requests, r => r.Message is ServerCheckRequest);
        Assert.Equal(4, _logger.Collector.GetSnapshot().Count(r => r.Id.Id == EventIds.GrpcBadServerMessage));
        Assert.Equal(NacosGrpcConnectionState.Connected, connection.State);
    }

    [Fact]
    public async Task Connect_reset_reconnects_and_redo_runs_before_any_other_request()
    {
        await using var server = await FakeNacosGrpcServer.StartAsync();
        await using var connection = Create(server);
        var redoRuns = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var redo = connection.AddRedo(async (requester, ct) =>
        {
            if (Interlocked.Increment(ref redoRuns) == 2)
            {
                await release.Task.WaitAsync(ct);
            }

            await requester.RequestAsync<InstanceResponse>(Register, ct);
        });
        await connection.WaitUntilConnectedAsync(Deadline, CancellationToken.None);
        var first = await server.WaitForStreamAsync();
        Assert.Single(server.Requests, r => r.Message is InstanceRequest);

        var resetAnswer = await first.PushAsync((ConnectResetRequest)NacosGrpcCodec.Decode(FakeNacosGrpcServer.Fixture("ConnectResetRequest.noTarget")));
        Assert.IsType<ConnectResetResponse>(resetAnswer);
        await Eventually.WaitUntilAsync(() => Volatile.Read(ref redoRuns) == 2, "the redo runs on the new connection");
        var second = await server.WaitForStreamAsync(s => s != first);
        var query = connection.RequestAsync<QueryServiceResponse>(Query, CancellationToken.None);

        // The redo step is held: the query waits for it and has not reached the server.
        Assert.DoesNotContain(server.Requests, r => r.Message is ServiceQueryRequest);
        release.SetResult();
        await WithTimeout(query, "the query after the redo");

        // Health checks are the transport's own and may run at any time on a slow machine.
        var onSecond = server.Requests.Where(r => r.Connection == second.Connection && r.Message is not HealthCheckRequest)
            .Select(r => r.Message.GetType().Name).ToList();
        Assert.Equal(["ServerCheckRequest", "InstanceRequest", "ServiceQueryRequest"], onSecond);
        Assert.NotEqual(first.Connection, second.Connection);
        await WithTimeout(first.Closed.Task, "the old connection closed");
    }

    [Fact]
    public async Task Connect_reset_naming_a_server_goes_to_that_server()
    {
        await using var a = await FakeNacosGrpcServer.StartAsync();
        await using var b = await FakeNacosGrpcServer.StartAsync();
        await using var c = await FakeNacosGrpcServer.StartAsync();
        await using var connection = Create(a, b, c);
        await connection.WaitUntilConnectedAsync(Deadline, CancellationToken.None);
        var servers = new[] { a, b, c };
        var order = connection.Servers;
        var current = order.ToList().FindIndex(s => s.GrpcPort == connection.CurrentServer!.GrpcPort);

        // Not the next in rotation, so only the reset's target explains the choice.
        var target = order[(current + 2) % order.Count];
        var stream = await servers.Single(s => s.GrpcPort == order[current].GrpcPort).WaitForStreamAsync();
        await stream.PushAsync(new ConnectResetRequest { ServerIp = "127.0.0.1", ServerPort = target.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        await Eventually.WaitUntilAsync(() => connection.State == NacosGrpcConnectionState.Connected && connection.CurrentServer?.GrpcPort == target.GrpcPort, "connected to the named server");
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Id == EventIds.GrpcConnectReset);
    }

    [Fact]
    public async Task Server_down_rotates_to_the_next_server_and_runs_the_redo_there()
    {
        await using var a = await FakeNacosGrpcServer.StartAsync();
        await using var b = await FakeNacosGrpcServer.StartAsync();
        await using var connection = Create(a, b);
        var states = new ConcurrentQueue<NacosGrpcConnectionState>();
        connection.StateChanged += (_, e) => states.Enqueue(e.State);
        using var redo = connection.AddRedo((requester, ct) => requester.RequestAsync<InstanceResponse>(Register, ct));
        await connection.WaitUntilConnectedAsync(Deadline, CancellationToken.None);
        var (up, down) = connection.CurrentServer!.GrpcPort == a.GrpcPort ? (b, a) : (a, b);

        await down.StopAsync();

        await Eventually.WaitUntilAsync(() => connection.State == NacosGrpcConnectionState.Connected && connection.CurrentServer?.GrpcPort == up.GrpcPort, "failed over to the other server");
        Assert.Single(up.Requests, r => r.Message is InstanceRequest);
        var response = await connection.RequestAsync<QueryServiceResponse>(Query, CancellationToken.None);
        Assert.True(response.Success);
        Assert.Contains(NacosGrpcConnectionState.Disconnected, states);
        Assert.Equal(NacosGrpcConnectionState.Connected, states.Last());
    }

    [Fact]
    public async Task A_dead_server_in_the_list_is_skipped()
    {
        var dead = await FakeNacosGrpcServer.StartAsync();
        var deadAddress = dead.ServerAddress;
        await dead.DisposeAsync();
        await using var live = await FakeNacosGrpcServer.StartAsync();
        var options = Options(deadAddress, live.ServerAddress);
        await using var connection = new NacosGrpcConnection(options, _logger, settings: Settings(options));

        var response = await connection.RequestAsync<QueryServiceResponse>(Query, CancellationToken.None);

        Assert.True(response.Success);
        Assert.Equal(live.GrpcPort, connection.CurrentServer!.GrpcPort);
    }

    [Fact]
    public async Task Dropped_stream_reconnects()
    {
        await using var server = await FakeNacosGrpcServer.StartAsync();
        await using var connection = Create(server);
        var redoRuns = 0;
        using var redo = connection.AddRedo((_, _) =>
        {
            Interlocked.Increment(ref redoRuns);
            return Task.CompletedTask;
        });
        await connection.WaitUntilConnectedAsync(Deadline, CancellationToken.None);
        var first = await server.WaitForStreamAsync();

        first.Drop();

        await server.WaitForStreamAsync(s => s != first);
        await Eventually.WaitUntilAsync(() => Volatile.Read(ref redoRuns) == 2 && connection.State == NacosGrpcConnectionState.Connected, "reconnected and redone");
        Assert.True((await connection.RequestAsync<QueryServiceResponse>(Query, CancellationToken.None)).Success);
    }

    [Fact]
    public async Task Unregistered_connection_answer_reconnects_and_the_request_is_retried()
    {
        await using var server = await FakeNacosGrpcServer.StartAsync();
        await using var connection = Create(server);
        var refused = 0;
        server.Respond = r => r.Message is ServiceQueryRequest && Interlocked.Increment(ref refused) == 1
            ? (NacosGrpcResponse)NacosGrpcCodec.Decode(FakeNacosGrpcServer.Fixture("ErrorResponse"))
            : null;

        var response = await connection.RequestAsync<QueryServiceResponse>(Query, CancellationToken.None);

        Assert.True(response.Success);
        Assert.Equal(2, server.Requests.Count(r => r.Message is ServerCheckRequest));
    }

    [Fact]
    public async Task A_request_without_answer_times_out_and_the_connection_stays()
    {
        await using var server = await FakeNacosGrpcServer.StartAsync();
        await using var connection = Create(server);
        var never = new TaskCompletionSource();
        server.BeforeAnswer = (r, ct) => r.Message is ServiceQueryRequest ? never.Task.WaitAsync(ct) : Task.CompletedTask;
        await connection.WaitUntilConnectedAsync(Deadline, CancellationToken.None);
        var connectionId = connection.ConnectionId;

        var timedOut = await Assert.ThrowsAsync<NacosUnavailableException>(
            () => connection.RequestAsync<QueryServiceResponse>(Query, TimeSpan.FromMilliseconds(300), CancellationToken.None));

        Assert.Contains("did not answer ServiceQueryRequest within 300 ms", timedOut.Message, StringComparison.Ordinal);
        Assert.True((await connection.RequestAsync<InstanceResponse>(Register, CancellationToken.None)).Success);
        Assert.Equal(connectionId, connection.ConnectionId);
    }

    [Fact]
    public async Task An_answer_over_the_size_limit_fails_the_call_not_the_connection()
    {
        await using var server = await FakeNacosGrpcServer.StartAsync();
        await using var connection = Create(server);
        server.Respond = r => r.Message is ConfigQueryRequest ? new ConfigQueryResponse { Content = new string('x', 11 * 1024 * 1024) } : null;
        await connection.WaitUntilConnectedAsync(Deadline, CancellationToken.None);

        await Assert.ThrowsAsync<NacosProtocolException>(() => connection.RequestAsync<ConfigQueryResponse>(new ConfigQueryRequest { DataId = "big", Group = "g" }, CancellationToken.None));

        Assert.True((await connection.RequestAsync<QueryServiceResponse>(Query, CancellationToken.None)).Success);
        Assert.Single(server.Requests, r => r.Message is ServerCheckRequest);
    }

    [Fact]
    public async Task Error_answers_become_clear_exceptions()
    {
        await using var server = await FakeNacosGrpcServer.StartAsync();
        await using var connection = Create(server);
        server.Respond = r => r.Message switch
        {
            ServiceQueryRequest => (NacosGrpcResponse)NacosGrpcCodec.Decode(FakeNacosGrpcServer.Fixture("ErrorResponse.noHandler")),
            InstanceRequest => (NacosGrpcResponse)NacosGrpcCodec.Decode(FakeNacosGrpcServer.Fixture("InstanceResponse.authFailed")),
            ConfigRemoveRequest => (NacosGrpcResponse)NacosGrpcCodec.Decode(FakeNacosGrpcServer.Fixture("ErrorResponse.handlerException")),
            ConfigQueryRequest => (NacosGrpcResponse)NacosGrpcCodec.Decode(FakeNacosGrpcServer.Fixture("ConfigQueryResponse.notFound")),
            SubscribeServiceRequest => new InstanceResponse(),
            _ => null,
        };

        var noHandler = await Assert.ThrowsAsync<NacosGrpcException>(() => connection.RequestAsync<QueryServiceResponse>(Query, CancellationToken.None));
        var auth = await Assert.ThrowsAsync<NacosAuthenticationException>(() => connection.RequestAsync<InstanceResponse>(Register, CancellationToken.None));
        var invalid = await Assert.ThrowsAsync<NacosGrpcException>(() => connection.RequestAsync<ConfigRemoveResponse>(new ConfigRemoveRequest { DataId = "a", Group = "g" }, CancellationToken.None));
        var notFound = await connection.RequestAsync<ConfigQueryResponse>(new ConfigQueryRequest { DataId = "a", Group = "g" }, CancellationToken.None);
        await Assert.ThrowsAsync<NacosProtocolException>(() => connection.RequestAsync<SubscribeServiceResponse>(new SubscribeServiceRequest(), CancellationToken.None));

        Assert.Equal(NacosGrpcErrorCodes.NoHandler, noHandler.ErrorCode);
        Assert.Contains("ServiceQueryRequest", noHandler.Message, StringComparison.Ordinal);
        Assert.Contains("token expired", auth.Message, StringComparison.Ordinal);
        Assert.Equal(NacosGrpcErrorCodes.InvalidParam, invalid.ErrorCode);
        Assert.Equal(ConfigQueryResponse.ConfigNotFound, notFound.ErrorCode);
        Assert.Single(server.Requests, r => r.Message is ServerCheckRequest);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Failed_health_check_reconnects(bool errorResponse)
    {
        await using var server = await FakeNacosGrpcServer.StartAsync();
        var options = Options(server.ServerAddress);
        var refuse = 1;
        server.Respond = r => r.Message is HealthCheckRequest && Interlocked.Exchange(ref refuse, 0) == 1
            ? errorResponse
                ? (NacosGrpcResponse)NacosGrpcCodec.Decode(FakeNacosGrpcServer.Fixture("ErrorResponse"))
                : new HealthCheckResponse { ResultCode = 500, ErrorCode = 500, Message = "not ok" }
            : null;
        await using var connection = new NacosGrpcConnection(options, _logger, settings: Settings(options) with { HealthCheckIdle = TimeSpan.FromMilliseconds(200) });
        await connection.WaitUntilConnectedAsync(Deadline, CancellationToken.None);

        await Eventually.WaitUntilAsync(() => server.Requests.Count(r => r.Message is ServerCheckRequest) == 2, "a reconnect after the failed health check");
        await Eventually.WaitUntilAsync(() => server.Requests.Count(r => r.Message is HealthCheckRequest) >= 2, "health checks on the new connection");
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Id == EventIds.GrpcHealthCheckFailed);
    }

    [Fact]
    public async Task Dispose_closes_the_stream_gracefully_and_never_throws()
    {
        await using var server = await FakeNacosGrpcServer.StartAsync();
        var connection = Create(server);
        await connection.WaitUntilConnectedAsync(Deadline, CancellationToken.None);
        var stream = await server.WaitForStreamAsync();

        await connection.DisposeAsync();
        await connection.DisposeAsync();

        Assert.Equal("completed", await WithTimeout(stream.Closed.Task, "the stream closed"));
        Assert.Equal(NacosGrpcConnectionState.Closed, connection.State);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => connection.RequestAsync<QueryServiceResponse>(Query, CancellationToken.None));
        Assert.DoesNotContain(_logger.Collector.GetSnapshot(), r => r.Id.Id == EventIds.GrpcLoopFailed);
    }

    [Fact]
    public async Task Dispose_while_no_server_answers_is_prompt()
    {
        var dead = await FakeNacosGrpcServer.StartAsync();
        var options = Options(dead.ServerAddress);
        await dead.DisposeAsync();
        var connection = new NacosGrpcConnection(options, _logger, settings: Settings(options) with { RequestTimeout = TimeSpan.FromMilliseconds(300) });

        await Assert.ThrowsAsync<NacosUnavailableException>(() => connection.RequestAsync<QueryServiceResponse>(Query, CancellationToken.None));
        await connection.DisposeAsync().AsTask().WaitAsync(Deadline);
        Assert.Equal(NacosGrpcConnectionState.Closed, connection.State);
    }

    [Fact]
    public async Task Probe_finds_the_server_that_speaks_grpc_and_opens_no_connection()
    {
        var dead = await FakeNacosGrpcServer.StartAsync();
        var deadAddress = dead.ServerAddress;
        await dead.DisposeAsync();
        await using var http1 = await Http1OnlyServerAsync();
        await using var live = await FakeNacosGrpcServer.StartAsync();
        var options = Options(deadAddress, $"http://127.0.0.1:{http1.Port - NacosGrpcServer.PortOffset}", live.ServerAddress);

        var found = await NacosGrpcConnection.ProbeAsync(options, Settings(options), _logger, CancellationToken.None);
        var none = await NacosGrpcConnection.ProbeAsync(Options(deadAddress, $"http://127.0.0.1:{http1.Port - NacosGrpcServer.PortOffset}"), Settings(options), _logger, CancellationToken.None);

        Assert.Equal(live.GrpcPort, found!.GrpcPort);
        Assert.Null(none);
        Assert.IsType<ServerCheckRequest>(Assert.Single(live.Requests).Message);
        Assert.Empty(live.Streams);
    }

    [Theory]
    [InlineData(-1, "http://127.0.0.1:8848")]
    [InlineData(65536, "http://127.0.0.1:8848")]
    [InlineData(0, "http://127.0.0.1:65000")]
    public void Grpc_port_is_validated_with_the_key_and_value(int grpcPort, string server)
    {
        var options = new NacosOptions { ServerAddresses = [server], GrpcPort = grpcPort };

        var result = new NacosOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("nacos:GrpcPort", StringComparison.Ordinal) && f.Contains($"'{grpcPort}'", StringComparison.Ordinal));
    }

    [Fact]
    public void Grpc_port_defaults_to_http_port_plus_1000_or_the_explicit_one()
    {
        var derived = NacosGrpcServer.FromOptions(new NacosOptions { ServerAddresses = ["http://10.0.0.2:8848,http://10.0.0.3:8850/nacos"] });
        var explicitPort = NacosGrpcServer.FromOptions(new NacosOptions { ServerAddresses = ["http://10.0.0.2:8848"], GrpcPort = 19848 });

        Assert.Equal(["http://10.0.0.2:9848/", "http://10.0.0.3:9850/"], derived.Select(s => s.Address.ToString()));
        Assert.Equal(8848, derived[0].Port);
        Assert.Equal(19848, Assert.Single(explicitPort).GrpcPort);
        Assert.True(new NacosOptionsValidator().Validate(null, new NacosOptions { ServerAddresses = ["http://127.0.0.1:8848"], GrpcPort = 9848 }).Succeeded);
    }

    /// <summary>An HTTP/1.1-only Kestrel on a gRPC port: what a 1.x server (or another service) on that port looks like.</summary>
    private static async Task<Http1Server> Http1OnlyServerAsync()
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, o => o.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1));
        var app = builder.Build();
        await app.StartAsync();
        return new Http1Server(app, new Uri(app.Urls.First()).Port);
    }

    private static Payload Raw(string type, string json) => new()
    {
        Metadata = new Metadata { Type = type },
        Body = new Google.Protobuf.WellKnownTypes.Any { Value = Google.Protobuf.ByteString.CopyFromUtf8(json) },
    };

    private static NacosOptions Options(params string[] servers) => new() { ServerAddresses = [.. servers], DefaultTimeOut = 15000 };

    private static NacosGrpcSettings Settings(NacosOptions options) =>
        NacosGrpcSettings.FromOptions(options, "grpc-test") with { ClientIp = "10.1.2.3" };

    private NacosGrpcConnection Create(FakeNacosGrpcServer server, Func<CancellationToken, ValueTask<string?>>? token = null)
    {
        var options = Options(server.ServerAddress);
        return new NacosGrpcConnection(options, _logger, accessToken: token, settings: Settings(options));
    }

    private NacosGrpcConnection Create(params FakeNacosGrpcServer[] servers)
    {
        var options = Options([.. servers.Select(s => s.ServerAddress)]);
        return new NacosGrpcConnection(options, _logger, settings: Settings(options));
    }
}

internal sealed class Http1Server(Microsoft.AspNetCore.Builder.WebApplication app, int port) : IAsyncDisposable
{
    public int Port { get; } = port;

    public ValueTask DisposeAsync() => app.DisposeAsync();
}
