using System.Net.Http.Json;
using GrayRelease.Tests.Infrastructure;

namespace GrayRelease.Tests.Integration;

public class RetryTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Retry_after_a_stopped_instance_lands_on_another_instance_of_the_same_version(bool resilienceFirst)
    {
        await using var liveV1 = await ChainApps.StartUserAppAsync("V1");
        await using var deadV1 = await ChainApps.StartUserAppAsync("V1");
        await using var liveV2 = await ChainApps.StartUserAppAsync("V2");
        await using var order = await ChainApps.StartOrderAppAsync(
            "V1",
            [("V1", liveV1.Address), ("V1", deadV1.Address), ("V2", liveV2.Address)],
            resilienceFirst);
        await deadV1.StopAsync();

        using var client = new HttpClient { BaseAddress = order.Address, Timeout = TimeSpan.FromSeconds(30) };
        for (var i = 0; i < 10; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/orders/{i}");
            request.Headers.Add("gray", "PROD");
            using var response = await client.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode, $"request {i} failed with {(int)response.StatusCode}");
            var body = (await response.Content.ReadFromJsonAsync<OrderDto>())!;
            Assert.Equal("V1", body.User.ServedBy.Version);
            Assert.Equal(liveV1.Port, body.User.ServedBy.Port);
        }
    }

    [Fact]
    public async Task Missing_gray_version_answers_503_naming_the_service_and_versions()
    {
        await using var userV1 = await ChainApps.StartUserAppAsync("V1");
        await using var order = await ChainApps.StartOrderAppAsync("V1", [("V1", userV1.Address)]);

        using var client = new HttpClient { BaseAddress = order.Address, Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/orders/1");
        request.Headers.Add("gray", "GRAY");
        using var response = await client.SendAsync(request);

        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("user-app", body, StringComparison.Ordinal);
        Assert.Contains("\"wantedVersion\":\"V2\"", body, StringComparison.Ordinal);
        Assert.Contains("\"availableVersions\":[\"V1\"]", body, StringComparison.Ordinal);
    }
}
