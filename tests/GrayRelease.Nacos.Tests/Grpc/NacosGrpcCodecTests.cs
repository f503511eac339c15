using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using GrayRelease.Nacos.Grpc;
using GrayRelease.Nacos.Grpc.Protocol;
using GrayRelease.Nacos.Http;

namespace GrayRelease.Nacos.Tests.Grpc;

/// <summary>Every fixture of /work/shared/nacos/fixtures/grpc reads into its record, and what we write matches it.</summary>
public sealed class NacosGrpcCodecTests
{
    // Read-only getters of the Java classes that Jackson writes and the server ignores on input (PROTOCOL-GRPC.md §2):
    // we do not write them.
    private static readonly HashSet<string> GetterOnlyFields = new(StringComparer.Ordinal)
    {
        "instanceHeartBeatInterval", "instanceHeartBeatTimeOut", "ipDeleteTimeout", "instanceIdGenerator",
    };

    public static TheoryData<string> FixtureNames()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "fixtures", "grpc"), "*.json").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileNameWithoutExtension(file));
        }

        return data;
    }

    [Fact]
    public void All_fixtures_are_present()
    {
        Assert.True(FixtureNames().Count >= 49, "expected the 49 fixtures of fixtures/grpc");
    }

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void Fixture_reads_into_its_record_and_writes_back_the_same_fields(string name)
    {
        var payload = FakeNacosGrpcServer.Fixture(name);

        var message = NacosGrpcCodec.Decode(payload);

        Assert.Equal(name.Split('.')[0], message.GetType().Name);
        var expected = JsonNode.Parse(Fixtures.Read("grpc/" + name + ".json"))!;
        var written = JsonNode.Parse(NacosGrpcCodec.ToJson(message))!;
        AssertSameJson(expected, written, "$");
    }

    [Fact]
    public void Instance_request_reads_every_field()
    {
        var request = (InstanceRequest)NacosGrpcCodec.Decode(FakeNacosGrpcServer.Fixture("InstanceRequest.register"));

        Assert.Equal(("public", "DEFAULT_GROUP", "user-app", InstanceRequest.Register), (request.Namespace, request.GroupName, request.ServiceName, request.Type));
        Assert.Equal(("10.0.0.5", 7201, 1.0, "DEFAULT"), (request.Instance!.Ip, request.Instance.Port, request.Instance.Weight, request.Instance.ClusterName));
        Assert.Equal("V1", request.Instance.Metadata!["version"]);
    }

    [Fact]
    public void Push_reads_service_info_and_request_id()
    {
        var push = (NotifySubscriberRequest)NacosGrpcCodec.Decode(FakeNacosGrpcServer.Fixture("NotifySubscriberRequest"));

        Assert.Equal("1045", push.RequestId);
        Assert.Equal("user-app", push.ServiceInfo!.Name);
        Assert.Equal(1727000000123, push.ServiceInfo.LastRefTime);
        Assert.Equal([1.0, 0.5], push.ServiceInfo.Hosts!.Select(h => h.Weight));
        Assert.Equal("DEFAULT_GROUP@@user-app", push.ServiceInfo.Hosts![0].ServiceName);
    }

    [Fact]
    public void Config_query_not_found_is_a_typed_failure()
    {
        var response = (ConfigQueryResponse)NacosGrpcCodec.Decode(FakeNacosGrpcServer.Fixture("ConfigQueryResponse.notFound"));

        Assert.False(response.Success);
        Assert.Equal((500, ConfigQueryResponse.ConfigNotFound), (response.ResultCode, response.ErrorCode));
    }

    [Fact]
    public void Headers_go_in_metadata_and_the_body_carries_them_emptied()
    {
        var request = new ConfigQueryRequest { DataId = "a", Group = "g", Tenant = "", Headers = new Dictionary<string, string> { [ConfigQueryRequest.NotifyHeader] = "true" } };

        var payload = NacosGrpcCodec.Encode(request, new Dictionary<string, string> { ["accessToken"] = "t0k3n" }, "10.0.0.5");

        Assert.Equal("ConfigQueryRequest", payload.Metadata.Type);
        Assert.Equal("10.0.0.5", payload.Metadata.ClientIp);
        Assert.Equal("t0k3n", payload.Metadata.Headers["accessToken"]);
        Assert.Equal("true", payload.Metadata.Headers["notify"]);
        Assert.Equal(string.Empty, payload.Body.TypeUrl);
        var body = JsonNode.Parse(payload.Body.Value.ToStringUtf8())!;
        Assert.Empty(body["headers"]!.AsObject());
        Assert.Null(body["tag"]);
        var read = (ConfigQueryRequest)NacosGrpcCodec.Decode(payload);
        Assert.Equal("t0k3n", read.Headers["ACCESSTOKEN"]);
    }

    [Fact]
    public void Body_is_read_from_value_whatever_the_type_url()
    {
        var payload = FakeNacosGrpcServer.Fixture("HealthCheckResponse");
        payload.Body.TypeUrl = "type.googleapis.com/something.Else";

        Assert.IsType<HealthCheckResponse>(NacosGrpcCodec.Decode(payload));
    }

    [Theory]
    [InlineData("NoSuchRequest", "{}")]
    [InlineData("NotifySubscriberRequest", "{not json")]
    [InlineData("NotifySubscriberRequest", "null")]
    [InlineData("NotifySubscriberRequest", "")]
    [InlineData("NotifySubscriberRequest", "{\"serviceInfo\":{\"lastRefTime\":\"yesterday\"}}")]
    public void Untrusted_bytes_give_a_protocol_error(string type, string body)
    {
        var payload = new Payload { Metadata = new Metadata { Type = type }, Body = new Any { Value = ByteString.CopyFromUtf8(body) } };

        Assert.Throws<NacosProtocolException>(() => NacosGrpcCodec.Decode(payload));
    }

    [Fact]
    public void Unknown_fields_are_ignored()
    {
        var payload = new Payload
        {
            Metadata = new Metadata { Type = "ClientDetectionRequest" },
            Body = new Any { Value = ByteString.CopyFrom(Encoding.UTF8.GetBytes("{\"requestId\":\"7\",\"future\":{\"x\":[1,2]},\"module\":\"internal\"}")) },
        };

        Assert.Equal("7", ((ClientDetectionRequest)NacosGrpcCodec.Decode(payload)).RequestId);
    }

    private static void AssertSameJson(JsonNode? expected, JsonNode? actual, string path)
    {
        switch (expected)
        {
            case JsonObject expectedObject:
                var actualObject = Assert.IsType<JsonObject>(actual);
                foreach (var (key, value) in expectedObject)
                {
                    if (GetterOnlyFields.Contains(key))
                    {
                        continue;
                    }

                    Assert.True(actualObject.ContainsKey(key), $"{path}.{key} missing in what we write: {actual!.ToJsonString()}");
                    AssertSameJson(value, actualObject[key], $"{path}.{key}");
                }

                foreach (var (key, _) in actualObject)
                {
                    Assert.True(expectedObject.ContainsKey(key), $"{path}.{key} written but not in the fixture: {actual!.ToJsonString()}");
                }

                break;
            case JsonArray expectedArray:
                var actualArray = Assert.IsType<JsonArray>(actual);
                Assert.Equal(expectedArray.Count, actualArray.Count);
                for (var i = 0; i < expectedArray.Count; i++)
                {
                    AssertSameJson(expectedArray[i], actualArray[i], $"{path}[{i}]");
                }

                break;
            case JsonValue expectedValue when expectedValue.GetValueKind() == JsonValueKind.Number:
                Assert.True(actual is JsonValue v && v.GetValueKind() == JsonValueKind.Number, $"{path}: expected a number, got {actual?.ToJsonString()}");
                Assert.Equal(expectedValue.GetValue<decimal>(), actual!.GetValue<decimal>());
                break;
            default:
                Assert.True(JsonNode.DeepEquals(expected, actual), $"{path}: expected {expected?.ToJsonString()}, got {actual?.ToJsonString()}");
                break;
        }
    }
}
