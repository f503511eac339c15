using Microsoft.Extensions.Http;

namespace GrayRelease.Http;

/// <summary>
/// Runs after every other configuration of a client's handler chain and moves the gray handlers into place:
/// propagation outermost (one header per logical call), load balancing innermost (after any retry handler).
/// </summary>
internal sealed class GrayReleaseHandlerOrderFilter(HttpClientServiceNames serviceNames) : IHttpMessageHandlerBuilderFilter
{
    public Action<HttpMessageHandlerBuilder> Configure(Action<HttpMessageHandlerBuilder> next) => builder =>
    {
        next(builder);

        var handlers = builder.AdditionalHandlers;
        var propagation = handlers.FirstOrDefault(handler => handler is GrayPropagationHandler);
        if (propagation is not null)
        {
            handlers.Remove(propagation);
            handlers.Insert(0, propagation);
        }

        var loadBalancing = handlers.FirstOrDefault(handler => handler is GrayLoadBalancingHandler);
        if (loadBalancing is not null)
        {
            handlers.Remove(loadBalancing);
            handlers.Add(loadBalancing);
            ((GrayLoadBalancingHandler)loadBalancing).BaseAddress = serviceNames.For(builder.Name ?? Microsoft.Extensions.Options.Options.DefaultName);
        }
    };
}
