using System.IO.Compression;
using System.Text;
using System.Text.Json;
using GrayRelease.Nacos.Configuration;
using GrayRelease.Nacos.Discovery;
using GrayRelease.Nacos.Http;

namespace GrayRelease.Nacos.Tests.Http;

public class FixtureParsingTests
{
    [Fact]
    public void Instance_list_is_parsed_with_weights_health_and_extra_metadata()
    {
        var info = NacosJson.ParseServiceInfo(Fixtures.Read("instance-list.json"));

        Assert.NotNull(info);
        Assert.Equal("DEFAULT_GROUP@@user-app", info.Name);
        Assert.Equal("user-app", info.BareName);
        Assert.Equal(10000, info.CacheMillis);
        Assert.Equal(1732492800123, info.LastRefTime);
        Assert.Equal(2, info.Hosts.Count);
        var v1 = info.Hosts[0];
        Assert.Equal(("10.0.0.5", 7201, 1.0, true, true), (v1.Ip, v1.Port, v1.Weight, v1.Healthy, v1.Enabled));
        Assert.Equal("10.0.0.5#7201#DEFAULT#DEFAULT_GROUP@@user-app", v1.InstanceId);
        Assert.Equal("V1", v1.Metadata["version"]);
        var v2 = info.Hosts[1];
        Assert.Equal(("10.0.0.6", 7202, 2.5, false, true), (v2.Ip, v2.Port, v2.Weight, v2.Healthy, v2.Enabled));
        Assert.Equal("V2", v2.Metadata["version"]);
        Assert.Equal("SPRING_CLOUD", v2.Metadata["preserved.register.source"]);
    }

    [Theory]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    [InlineData("1.5e300")]
    public void Numbers_out_of_range_in_a_list_answer_are_absent_not_an_exception(string odd)
    {
        var body = Fixtures.Read("instance-list.json")
            .Replace("\"cacheMillis\": 10000", "\"cacheMillis\": " + odd, StringComparison.Ordinal)
            .Replace("\"lastRefTime\": 1732492800123", "\"lastRefTime\": " + odd, StringComparison.Ordinal);
        Assert.Contains(odd, body, StringComparison.Ordinal);

        var info = NacosJson.ParseServiceInfo(body);

        Assert.NotNull(info);
        Assert.Equal(10000, info.CacheMillis);
        Assert.Equal(0, info.LastRefTime);
        Assert.Equal(2, info.Hosts.Count);
    }

    [Fact]
    public void Instance_list_maps_to_service_instances_under_the_bare_name()
    {
        var info = NacosJson.ParseServiceInfo(Fixtures.Read("instance-list.json"))!;

        var instances = NacosServiceInstanceProvider.Map("user-app", info.Hosts);

        Assert.Equal(["http://10.0.0.5:7201", "http://10.0.0.6:7202"], instances.Select(i => i.Address));
        Assert.All(instances, i => Assert.Equal("user-app", i.ServiceName));
        Assert.True(instances[0].IsRoutable);
        Assert.False(instances[1].IsRoutable);
        Assert.Equal(2.5, instances[1].Weight);
        Assert.Equal("V2", instances[1].GetMetadata("version"));
    }

    [Fact]
    public void Secure_metadata_makes_the_scheme_https()
    {
        var body = Fixtures.Read("instance-list.json").Replace("{ \"version\": \"V1\" }", "{ \"version\": \"V1\", \"secure\": \"true\" }", StringComparison.Ordinal);
        var info = NacosJson.ParseServiceInfo(body)!;

        var instances = NacosServiceInstanceProvider.Map("user-app", info.Hosts);

        Assert.Equal("https://10.0.0.5:7201", instances[0].Address);
        Assert.Equal("http://10.0.0.6:7202", instances[1].Address);
    }

    [Fact]
    public void Empty_instance_list_is_parsed_as_no_hosts()
    {
        var info = NacosJson.ParseServiceInfo(Fixtures.Read("instance-list-empty.json"));

        Assert.NotNull(info);
        Assert.Equal("no-such-app", info.BareName);
        Assert.Empty(info.Hosts);
    }

    [Theory]
    [InlineData("beat-ok.json", 10200, false)]
    [InlineData("beat-unknown-instance.json", 20404, true)]
    public void Beat_answers_are_parsed(string fixture, int code, bool unknown)
    {
        var beat = NacosJson.ParseBeat(Fixtures.Read(fixture));

        Assert.NotNull(beat);
        Assert.Equal(5000, beat.Value.ClientBeatInterval);
        Assert.Equal(code, beat.Value.Code);
        Assert.Equal(unknown, beat.Value.InstanceUnknown);
        Assert.True(beat.Value.LightBeatEnabled);
    }

    [Fact]
    public void Login_answer_gives_token_and_ttl()
    {
        var login = NacosJson.ParseLogin(Fixtures.Read("login.json"));

        Assert.NotNull(login);
        Assert.StartsWith("eyJhbGciOiJIUzI1NiJ9.", login.AccessToken, StringComparison.Ordinal);
        Assert.Equal(18000, login.TokenTtlSeconds);
    }

    [Fact]
    public void V2_instance_list_envelope_is_unwrapped()
    {
        var info = NacosJson.ParseServiceInfo(Fixtures.Read("v2-instance-list.json"));

        Assert.NotNull(info);
        Assert.Equal("user-app", info.BareName);
        Assert.Single(info.Hosts);
        Assert.Equal(1732492800789, info.LastRefTime);
    }

    [Fact]
    public void V2_error_envelope_gives_code_and_message_and_no_instance_list()
    {
        var body = Fixtures.Read("v2-error.json");

        var envelope = NacosJson.ParseV2Envelope(body);

        Assert.Equal(10000, envelope?.Code);
        Assert.Contains("serviceName", envelope?.Message, StringComparison.Ordinal);
        Assert.Null(NacosJson.ParseServiceInfo(body));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{\"name\":\"x\"}")]
    [InlineData("{\"name\":\"DEFAULT_GROUP@@x\",\"hosts\":[{\"ip\":\"10.0.0.1\"}]}")]
    [InlineData("{\"name\":\"DEFAULT_GROUP@@x\",\"hosts\":[{\"ip\":\"10.0.0.1\",\"port\":70000}]}")]
    public void Malformed_instance_lists_give_null_not_an_exception(string body)
    {
        Assert.Null(NacosJson.ParseServiceInfo(body));
    }

    [Fact]
    public void Healthy_as_a_string_is_still_understood()
    {
        var info = NacosJson.ParseServiceInfo("{\"name\":\"g@@s\",\"hosts\":[{\"ip\":\"10.0.0.1\",\"port\":80,\"healthy\":\"false\",\"weight\":\"3\"}]}");

        Assert.False(info!.Hosts[0].Healthy);
        Assert.Equal(3, info.Hosts[0].Weight);
    }

    [Fact]
    public void Udp_push_is_parsed_and_its_data_is_an_instance_list()
    {
        var packet = NacosPushPacket.TryParse(Encoding.UTF8.GetBytes(Fixtures.Read("udp-push.json")));

        Assert.NotNull(packet);
        Assert.Equal("dom", packet.Type);
        Assert.Equal("1732492800999000000", packet.LastRefTimeRaw);
        var info = NacosJson.ParseServiceInfo(packet.Data!);
        Assert.Equal("V1", info!.Hosts.Single().Metadata["version"]);
    }

    [Fact]
    public void Gzipped_udp_push_is_inflated()
    {
        var plain = Encoding.UTF8.GetBytes(Fixtures.Read("udp-push.json"));
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(plain);
        }

        var packet = NacosPushPacket.TryParse(buffer.ToArray());

        Assert.Equal("dom", packet?.Type);
        Assert.Equal("user-app", NacosJson.ParseServiceInfo(packet!.Data!)!.BareName);
    }

    [Fact]
    public void Push_ack_matches_the_fixture_and_echoes_last_ref_time_exactly()
    {
        var packet = NacosPushPacket.TryParse(Encoding.UTF8.GetBytes(Fixtures.Read("udp-push.json")))!;

        var ack = UdpPushReceiver.BuildAnswer(packet, _ => null);

        using var expected = JsonDocument.Parse(Fixtures.Read("udp-push-ack.json"));
        using var actual = JsonDocument.Parse(ack);
        Assert.Equal("push-ack", actual.RootElement.GetProperty("type").GetString());
        Assert.Equal(expected.RootElement.GetProperty("lastRefTime").GetRawText(), actual.RootElement.GetProperty("lastRefTime").GetRawText());
        Assert.Equal(string.Empty, actual.RootElement.GetProperty("data").GetString());
    }

    [Fact]
    public void Dump_and_unknown_packets_get_their_own_acks()
    {
        var dump = UdpPushReceiver.BuildAnswer(new NacosPushPacket("dump", "42", null), _ => "{\"a\":1}");
        var unknown = UdpPushReceiver.BuildAnswer(new NacosPushPacket("whatever", "43", null), _ => throw new InvalidOperationException("not called"));

        using var dumpJson = JsonDocument.Parse(dump);
        using var unknownJson = JsonDocument.Parse(unknown);
        Assert.Equal("dump-ack", dumpJson.RootElement.GetProperty("type").GetString());
        Assert.Equal("{\"a\":1}", dumpJson.RootElement.GetProperty("data").GetString());
        Assert.Equal("unknown-ack", unknownJson.RootElement.GetProperty("type").GetString());
        Assert.Equal(43, unknownJson.RootElement.GetProperty("lastRefTime").GetInt64());
    }

    [Fact]
    public void Listener_answer_names_the_changed_configs()
    {
        var changed = NacosConfigKey.ParseChanged(Fixtures.Read("config-listener-changed.txt"));

        Assert.Equal(
            [new NacosConfigKey("common-config.yaml", "DEFAULT_GROUP", ""), new NacosConfigKey("gateway-app.yaml", "DEFAULT_GROUP", "")],
            changed);
    }

    [Fact]
    public void Listener_answer_with_a_tenant_and_an_empty_answer()
    {
        Assert.Equal([new NacosConfigKey("a.json", "G", "dev")], NacosConfigKey.ParseChanged("a.json%02G%02dev%01\n"));
        Assert.Empty(NacosConfigKey.ParseChanged(string.Empty));
    }

    [Fact]
    public void Listening_configs_use_utf8_md5_and_the_tenant_only_when_set()
    {
        var md5 = NacosConfigKey.Md5("版本: V2");
        var value = NacosConfigKey.BuildListeningConfigs([
            (new NacosConfigKey("a.yaml", "DEFAULT_GROUP", ""), md5),
            (new NacosConfigKey("b.json", "G", "dev"), ""),
        ]);

        Assert.Equal("a.yaml\u0002DEFAULT_GROUP\u0002" + md5 + "\u0001b.json\u0002G\u0002\u0002dev\u0001", value);
        Assert.Equal("75eefa79b35251a5524facb8a9b7961b", md5);
        Assert.Equal(string.Empty, NacosConfigKey.Md5(null));
    }
}
