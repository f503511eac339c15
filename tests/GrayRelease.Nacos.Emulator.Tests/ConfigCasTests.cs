using System.Net;
using System.Security.Cryptography;
using System.Text;
using GrayRelease.Nacos.Emulator.Tests.Support;

namespace GrayRelease.Nacos.Emulator.Tests;

/// <summary>Compare-and-set publish (casMd5), as config/.../service/ConfigOperationService.java does it.</summary>
public sealed class ConfigCasTests : EmulatorTestBase
{
    [Fact]
    public async Task V1_publish_with_a_stale_casMd5_header_is_refused_with_500_false_and_keeps_the_content()
    {
        Emulator.PublishConfig("lease.json", "DEFAULT_GROUP", "{\"holder\":\"a\"}");

        var (status, body) = await PublishAsync("{\"holder\":\"b\"}", casMd5: Md5("{\"holder\":\"someone-else\"}"));

        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Equal("false", body);
        Assert.Equal("{\"holder\":\"a\"}", Emulator.GetConfig("lease.json", "DEFAULT_GROUP"));
    }

    [Fact]
    public async Task V1_publish_with_the_current_casMd5_header_replaces_the_content()
    {
        Emulator.PublishConfig("lease.json", "DEFAULT_GROUP", "{\"holder\":\"a\"}");

        var (status, body) = await PublishAsync("{\"holder\":\"b\"}", casMd5: Md5("{\"holder\":\"a\"}"));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("true", body);
        Assert.Equal("{\"holder\":\"b\"}", Emulator.GetConfig("lease.json", "DEFAULT_GROUP"));
    }

    [Fact]
    public async Task V1_publish_with_a_casMd5_creates_a_config_that_does_not_exist_as_the_server_does()
    {
        var (status, _) = await PublishAsync("{\"holder\":\"a\"}", casMd5: Md5("anything"));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("{\"holder\":\"a\"}", Emulator.GetConfig("lease.json", "DEFAULT_GROUP"));
    }

    [Fact]
    public async Task Of_many_concurrent_v1_publishes_holding_the_same_md5_exactly_one_wins()
    {
        Emulator.PublishConfig("lease.json", "DEFAULT_GROUP", "{\"term\":0}");
        var md5 = Md5("{\"term\":0}");

        var answers = await Task.WhenAll(Enumerable.Range(1, 16).Select(i => PublishAsync("{\"term\":" + i + "}", md5)));

        Assert.Equal(1, answers.Count(a => a.Status == HttpStatusCode.OK));
        Assert.Equal(15, answers.Count(a => a.Status == HttpStatusCode.InternalServerError));
    }

    private async Task<(HttpStatusCode Status, string Body)> PublishAsync(string content, string casMd5)
    {
        using var response = await SendAsync(
            HttpMethod.Post,
            "v1/cs/configs",
            Form(("dataId", "lease.json"), ("group", "DEFAULT_GROUP"), ("content", content), ("type", "json")),
            request => request.Headers.Add("casMd5", casMd5));
        return (response.StatusCode, await response.Content.ReadAsStringAsync(Timeout));
    }

#pragma warning disable CA5351 // The protocol's md5, not security.
    private static string Md5(string content) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(content)));
#pragma warning restore CA5351
}
