using GrayRelease.Http;
using GrayRelease.Tests.Infrastructure;

namespace GrayRelease.Tests.Http;

public class GrayPropagationHandlerTests
{
    private static async Task<HttpRequestMessage> SendThrough(HttpRequestMessage request, GrayReleaseOptions? options = null)
    {
        var recorder = new RecordingHandler();
        using var handler = new GrayPropagationHandler(new TestOptionsMonitor<GrayReleaseOptions>(options ?? new GrayReleaseOptions())) { InnerHandler = recorder };
        using var invoker = new HttpMessageInvoker(handler);
        using var response = await invoker.SendAsync(request, CancellationToken.None);
        return recorder.Last!;
    }

    [Theory]
    [InlineData(GrayStatus.Gray, "GRAY")]
    [InlineData(GrayStatus.Prod, "PROD")]
    [InlineData(GrayStatus.All, "ALL")]
    public async Task Current_status_is_added_as_the_gray_header(GrayStatus status, string wire)
    {
        using var scope = GrayContext.Begin(status);
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://user-app/users/1");
        var sent = await SendThrough(request);
        Assert.Equal(new[] { wire }, sent.Headers.GetValues("gray"));
    }

    [Fact]
    public async Task Untagged_flow_adds_no_header()
    {
        using var scope = GrayContext.Suppress();
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://user-app/users/1");
        var sent = await SendThrough(request);
        Assert.False(sent.Headers.Contains("gray"));
    }

    [Fact]
    public async Task Header_set_explicitly_by_the_caller_is_left_alone()
    {
        using var scope = GrayContext.Begin(GrayStatus.Gray);
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://user-app/users/1");
        request.Headers.Add("gray", "PROD");
        var sent = await SendThrough(request);
        Assert.Equal(new[] { "PROD" }, sent.Headers.GetValues("gray"));
    }

    [Fact]
    public async Task Sending_the_same_message_twice_never_duplicates_the_header()
    {
        using var scope = GrayContext.Begin(GrayStatus.Gray);
        var recorder = new RecordingHandler();
        using var handler = new GrayPropagationHandler(new TestOptionsMonitor<GrayReleaseOptions>(new GrayReleaseOptions())) { InnerHandler = recorder };
        using var invoker = new HttpMessageInvoker(handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://user-app/users/1");
        (await invoker.SendAsync(request, CancellationToken.None)).Dispose();
        (await invoker.SendAsync(request, CancellationToken.None)).Dispose();
        Assert.Equal(new[] { "GRAY" }, recorder.Last!.Headers.GetValues("gray"));
    }

    [Fact]
    public async Task Configured_header_name_is_used()
    {
        using var scope = GrayContext.Begin(GrayStatus.Gray);
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://user-app/users/1");
        var sent = await SendThrough(request, new GrayReleaseOptions { HeaderName = "x-lane" });
        Assert.Equal(new[] { "GRAY" }, sent.Headers.GetValues("x-lane"));
        Assert.False(sent.Headers.Contains("gray"));
    }
}

internal sealed class RecordingHandler : HttpMessageHandler
{
    public HttpRequestMessage? Last { get; private set; }

    public List<Uri> Uris { get; } = [];

    public Func<HttpRequestMessage, HttpResponseMessage>? Respond { get; set; }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Last = request;
        Uris.Add(request.RequestUri!);
        return Task.FromResult(Respond?.Invoke(request) ?? new HttpResponseMessage(System.Net.HttpStatusCode.OK));
    }
}
