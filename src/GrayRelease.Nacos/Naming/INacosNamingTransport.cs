namespace GrayRelease.Nacos.Naming;

/// <summary>
/// What registration and discovery need from Nacos, once per protocol: the HTTP v1 Open API (with heartbeats, polling
/// and UDP push as a signal) or the gRPC client API (instances live with the connection, lists are pushed). The
/// discovery cache, its ordering, protections and snapshot, and the registration rules exist once, above this seam.
/// </summary>
internal interface INacosNamingTransport
{
    NacosTransport Kind { get; }

    /// <summary>HTTP: an ephemeral instance lives only as long as heartbeats come; gRPC: as long as the connection.</summary>
    bool UsesHeartbeats { get; }

    /// <summary>gRPC: a subscribed service's lists are pushed over the authenticated connection, so no poll loop runs.</summary>
    bool PushesLists { get; }

    /// <summary>Grows each time Nacos could not be reached (HTTP: a call found no server; gRPC: the connection was lost).</summary>
    long OutageCount { get; }

    Task RegisterAsync(NacosRegistration registration, CancellationToken cancellationToken);

    Task DeregisterAsync(NacosRegistration registration, CancellationToken cancellationToken);

    /// <summary>
    /// The current list of a service (all clusters), subscribing to its changes: HTTP sends <paramref name="udpPort"/>
    /// / <paramref name="clientIp"/> for UDP push when given; gRPC subscribes the connection (and re-subscribes after
    /// every reconnect). <c>Body</c> is JSON that <see cref="Http.NacosJson.ParseServiceInfo(string)"/> reads (snapshot).
    /// </summary>
    Task<(NacosServiceInfo? Info, string Body)> SubscribeAsync(string serviceName, int udpPort, string? clientIp, CancellationToken cancellationToken);

    /// <summary>Stops pushes of a service (gRPC); nothing to do over HTTP.</summary>
    Task UnsubscribeAsync(string serviceName, CancellationToken cancellationToken);

    /// <summary>
    /// Receives lists the server sends on its own (gRPC pushes and the answers of the redo after a reconnect), in
    /// order; the handler must be quick (it runs on the connection's read loop). HTTP never calls it.
    /// </summary>
    void SetListHandler(Action<NacosServiceInfo, string>? handler);
}
