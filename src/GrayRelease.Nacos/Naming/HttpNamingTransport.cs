using GrayRelease.Nacos.Http;

namespace GrayRelease.Nacos.Naming;

/// <summary>The v1 Open API: register / deregister / list (with UDP push subscription); beats stay with the registration loop.</summary>
internal sealed class HttpNamingTransport(NacosNamingClient naming, NacosHttpClient? http, string groupName) : INacosNamingTransport
{
    public NacosTransport Kind => NacosTransport.Http;

    public bool UsesHeartbeats => true;

    public bool PushesLists => false;

    public long OutageCount => http?.OutageCount ?? 0;

    public NacosNamingClient Naming => naming;

    public Task RegisterAsync(NacosRegistration registration, CancellationToken cancellationToken) =>
        naming.RegisterAsync(registration, cancellationToken);

    public Task DeregisterAsync(NacosRegistration registration, CancellationToken cancellationToken) =>
        naming.DeregisterAsync(registration, cancellationToken);

    public Task<(NacosServiceInfo? Info, string Body)> SubscribeAsync(string serviceName, int udpPort, string? clientIp, CancellationToken cancellationToken) =>
        naming.ListAsync(serviceName, groupName, udpPort, clientIp, cancellationToken);

    public Task UnsubscribeAsync(string serviceName, CancellationToken cancellationToken) => Task.CompletedTask;

    public void SetListHandler(Action<NacosServiceInfo, string>? handler)
    {
    }
}
