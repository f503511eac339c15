using System.Net;
using System.Net.Sockets;
using GrayRelease.Discovery;
using GrayRelease.Http;
using GrayRelease.LoadBalancing;
using Moq;

namespace GrayRelease.Tests.Http;

public class GrayLoadBalancingHandlerTests
{
    private static readonly ServiceInstance UserV2 = new() { ServiceName = "user-app", Host = "10.0.0.6", Port = 7202 };

    private static (HttpMessageInvoker Invoker, RecordingHandler Recorder) Create(IGrayLoadBalancer balancer)
    {
        var recorder = new RecordingHandler();
        var handler = new GrayLoadBalancingHandler(balancer) { InnerHandler = recorder };
        return (new HttpMessageInvoker(handler), recorder);
    }

    [Fact]
    public async Task Service_address_is_rewritten_to_the_picked_instance_keeping_path_and_query()
    {
        var balancer = new Mock<IGrayLoadBalancer>();
        balancer.Setup(b => b.PickAsync("user-app", GrayStatus.Gray, It.IsAny<CancellationToken>())).ReturnsAsync(UserV2);
        var (invoker, recorder) = Create(balancer.Object);
        using var scope = GrayContext.Begin(GrayStatus.Gray);
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://user-app/users/1?expand=orders");

        (await invoker.SendAsync(request, CancellationToken.None)).Dispose();

        Assert.Equal(new Uri("http://10.0.0.6:7202/users/1?expand=orders"), Assert.Single(recorder.Uris));
        Assert.Equal(new Uri("http://user-app/users/1?expand=orders"), request.RequestUri);
    }

    [Theory]
    [InlineData("http://UserApp/users/1", "UserApp")]
    [InlineData("http://UserApp", "UserApp")]
    [InlineData("https://UserApp:8443/users?id=1", "UserApp")]
    [InlineData("http://UserApp?x=1", "UserApp")]
    [InlineData("http://UserApp#top", "UserApp")]
    [InlineData("http://me:secret@UserApp/x", "UserApp")]
    [InlineData("http://UserApp@OrderApp/x", "OrderApp")]
    [InlineData("http://user-app/x", "user-app")]
    [InlineData("HTTP://User.App.Internal./x", "User.App.Internal.")]
    public void Service_name_keeps_the_spelling_of_the_request_text(string uri, string expected)
    {
        var handler = new GrayLoadBalancingHandler(Mock.Of<IGrayLoadBalancer>());

        var name = handler.GetServiceName(new Uri(uri));

        Assert.Equal(expected, name);
        if (!string.Equals(name, new Uri(uri).Host, StringComparison.Ordinal))
        {
            Assert.Same(name, handler.GetServiceName(new Uri(uri))); // a repeated spelling is reused, not allocated again
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000/x")]
    [InlineData("http://[::1]:5000/x")]
    public async Task Ip_literals_pass_through_without_asking_the_balancer(string uri)
    {
        var balancer = new Mock<IGrayLoadBalancer>(MockBehavior.Strict);
        var (invoker, recorder) = Create(balancer.Object);
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        (await invoker.SendAsync(request, CancellationToken.None)).Dispose();
        Assert.Equal(new Uri(uri), Assert.Single(recorder.Uris));
    }

    [Fact]
    public async Task Unknown_host_passes_through_untouched()
    {
        var balancer = new Mock<IGrayLoadBalancer>();
        balancer.Setup(b => b.PickAsync("api.example.com", It.IsAny<GrayStatus?>(), It.IsAny<CancellationToken>())).ReturnsAsync((ServiceInstance?)null);
        var (invoker, recorder) = Create(balancer.Object);
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://api.example.com/v1");
        (await invoker.SendAsync(request, CancellationToken.None)).Dispose();
        Assert.Equal(new Uri("https://api.example.com/v1"), Assert.Single(recorder.Uris));
    }

    [Fact]
    public async Task Refused_connection_is_reported_to_the_balancer_and_rethrown()
    {
        var balancer = new Mock<IGrayLoadBalancer>();
        balancer.Setup(b => b.PickAsync("user-app", It.IsAny<GrayStatus?>(), It.IsAny<CancellationToken>())).ReturnsAsync(UserV2);
        var (invoker, recorder) = Create(balancer.Object);
        recorder.Respond = _ => throw new HttpRequestException(HttpRequestError.ConnectionError, "refused", new SocketException((int)SocketError.ConnectionRefused));
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://user-app/users/1");

        await Assert.ThrowsAsync<HttpRequestException>(() => invoker.SendAsync(request, CancellationToken.None));
        balancer.Verify(b => b.ReportConnectionFailure(UserV2), Times.Once);
    }

    [Fact]
    public async Task Other_failures_are_not_reported_as_connection_failures()
    {
        var balancer = new Mock<IGrayLoadBalancer>();
        balancer.Setup(b => b.PickAsync("user-app", It.IsAny<GrayStatus?>(), It.IsAny<CancellationToken>())).ReturnsAsync(UserV2);
        var (invoker, recorder) = Create(balancer.Object);
        recorder.Respond = _ => new HttpResponseMessage(HttpStatusCode.InternalServerError);
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://user-app/users/1");

        using var response = await invoker.SendAsync(request, CancellationToken.None);
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        balancer.Verify(b => b.ReportConnectionFailure(It.IsAny<ServiceInstance>()), Times.Never);
    }

    [Fact]
    public void Ipv6_instance_addresses_are_bracketed()
    {
        var instance = new ServiceInstance { ServiceName = "user-app", Host = "fd00::6", Port = 7202 };
        Assert.Equal("http://[fd00::6]:7202", instance.Address);
    }
}
