using GrayRelease.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace GrayRelease.Tests.Http;

public class HandlerOrderTests
{
    private sealed class MarkerHandler : DelegatingHandler;

    private static IList<DelegatingHandler> BuildHandlers(Action<IHttpClientBuilder> configure)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddGrayRelease(new ConfigurationBuilder().Build());
        configure(services.AddHttpClient("user-app"));
        using var provider = services.BuildServiceProvider();

        var builder = provider.GetRequiredService<HttpMessageHandlerBuilder>();
        builder.Name = "user-app";
        Action<HttpMessageHandlerBuilder> configureBuilder = b =>
        {
            foreach (var action in provider.GetRequiredService<IOptionsMonitor<HttpClientFactoryOptions>>().Get("user-app").HttpMessageHandlerBuilderActions)
            {
                action(b);
            }
        };
        foreach (var filter in provider.GetServices<IHttpMessageHandlerBuilderFilter>().Reverse())
        {
            configureBuilder = filter.Configure(configureBuilder);
        }

        configureBuilder(builder);
        return builder.AdditionalHandlers;
    }

    [Fact]
    public void Gray_handlers_end_up_outermost_and_innermost_when_added_first()
    {
        var handlers = BuildHandlers(client => client.AddGrayRelease().AddHttpMessageHandler(() => new MarkerHandler()));
        var gray = handlers.Where(h => h is GrayPropagationHandler or GrayLoadBalancingHandler or MarkerHandler).ToList();
        Assert.IsType<GrayPropagationHandler>(gray[0]);
        Assert.IsType<MarkerHandler>(gray[1]);
        Assert.IsType<GrayLoadBalancingHandler>(gray[2]);
    }

    [Fact]
    public void Gray_handlers_end_up_outermost_and_innermost_when_added_last()
    {
        var handlers = BuildHandlers(client => client.AddHttpMessageHandler(() => new MarkerHandler()).AddGrayRelease());
        var gray = handlers.Where(h => h is GrayPropagationHandler or GrayLoadBalancingHandler or MarkerHandler).ToList();
        Assert.IsType<GrayPropagationHandler>(gray[0]);
        Assert.IsType<MarkerHandler>(gray[1]);
        Assert.IsType<GrayLoadBalancingHandler>(gray[2]);
    }

    [Fact]
    public void Clients_without_AddGrayRelease_get_no_gray_handlers()
    {
        var handlers = BuildHandlers(client => client.AddHttpMessageHandler(() => new MarkerHandler()));
        Assert.DoesNotContain(handlers, h => h is GrayPropagationHandler or GrayLoadBalancingHandler);
    }
}
