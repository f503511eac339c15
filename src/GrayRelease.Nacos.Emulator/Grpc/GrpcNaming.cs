using System.Text.Json;
using System.Text.RegularExpressions;
using GrayRelease.Nacos.Emulator.Diagnostics;
using GrayRelease.Nacos.Emulator.Naming;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Emulator.Grpc;

/// <summary>
/// Naming over gRPC (naming/remote/rpc/handler/*RequestHandler.java on EphemeralClientOperationServiceImpl.java):
/// instances owned by the connection, one per (connection, service), subscriptions with push.
/// </summary>
internal sealed partial class GrpcNaming
{
    private const string Register = "registerInstance";
    private const string Deregister = "deregisterInstance";
    private const string BatchRegister = "batchRegisterInstance";

    private readonly NamingStore _store;
    private readonly GrpcConnections _connections;
    private readonly NacosEmulatorOptions _options;
    private readonly ILogger _logger;

    public GrpcNaming(NamingStore store, GrpcConnections connections, NacosEmulatorOptions options, ILogger logger)
    {
        _store = store;
        _connections = connections;
        _options = options;
        _logger = logger;
    }

    public static string? CheckInstance(JsonElement body) =>
        GrpcParamCheck.Instance(GrpcJson.String(body, "namespace"), GrpcJson.String(body, "groupName"), GrpcJson.String(body, "serviceName"), GrpcJson.Object(body, "instance"));

    public static string? CheckBatch(JsonElement body)
    {
        var namespaceId = GrpcJson.String(body, "namespace");
        var group = GrpcJson.String(body, "groupName");
        var serviceName = GrpcJson.String(body, "serviceName");
        if (GrpcParamCheck.Check(namespaceId: namespaceId, serviceName: serviceName, group: group) is { } failure)
        {
            return failure;
        }

        if (body.TryGetProperty("instances", out var instances) && instances.ValueKind == JsonValueKind.Array)
        {
            foreach (var instance in instances.EnumerateArray())
            {
                if (GrpcParamCheck.Instance(null, null, null, instance) is { } instanceFailure)
                {
                    return instanceFailure;
                }
            }
        }

        return null;
    }

    public static string? CheckSubscribe(JsonElement body) => GrpcParamCheck.Check(
        namespaceId: GrpcJson.String(body, "namespace"),
        serviceName: GrpcJson.String(body, "serviceName"),
        group: GrpcJson.String(body, "groupName"),
        clusters: GrpcJson.String(body, "clusters"));

    public static string? CheckQuery(JsonElement body) => GrpcParamCheck.Check(
        namespaceId: GrpcJson.String(body, "namespace"),
        serviceName: GrpcJson.String(body, "serviceName"),
        group: GrpcJson.String(body, "groupName"),
        cluster: GrpcJson.String(body, "cluster"));

    /// <summary>InstanceRequestHandler.java: register or deregister the connection's instance of the service.</summary>
    public byte[] Instance(GrpcCall call)
    {
        var key = Service(call.Body);
        var type = GrpcJson.String(call.Body, "type");
        var instance = GrpcJson.Object(call.Body, "instance");
        switch (type)
        {
            case Register:
                RequireInstance(instance);
                CheckLegal(instance);
                if (_store.HasPersistent(key))
                {
                    throw GrpcHandlerException.Runtime(400, $"Current service {key.GroupedName} is persistent service, can't register ephemeral instance.");
                }

                RequireNamingClient(call.Connection);
                Publish(call.Connection, key, [Registration(instance, call.Connection.Id)]);
                break;
            case Deregister:
                RequireInstance(instance);

                // EphemeralClientOperationServiceImpl.deregisterInstance: a service that does not exist is a no-op, before the client check.
                if (_store.Contains(key))
                {
                    RequireNamingClient(call.Connection);
                    Publish(call.Connection, key, []);
                }

                break;
            default:
                throw new GrpcHandlerException(400, $"Unsupported request type {type}");
        }

        return GrpcJson.Success(writer => writer.WriteString("type", type));
    }

    /// <summary>BatchInstanceRequestHandler.java: the connection's set for the service becomes exactly these.</summary>
    public byte[] BatchInstance(GrpcCall call)
    {
        var key = Service(call.Body);
        var type = GrpcJson.String(call.Body, "type");
        if (!string.Equals(type, BatchRegister, StringComparison.Ordinal))
        {
            throw new GrpcHandlerException(400, $"Unsupported request type {type}");
        }

        if (_store.HasPersistent(key))
        {
            throw GrpcHandlerException.Runtime(400, $"Current service {key.GroupedName} is persistent service, can't batch register ephemeral instance.");
        }

        RequireNamingClient(call.Connection);
        var registrations = new List<InstanceRegistration>();
        if (call.Body.TryGetProperty("instances", out var instances) && instances.ValueKind == JsonValueKind.Array)
        {
            foreach (var instance in instances.EnumerateArray())
            {
                registrations.Add(Registration(instance, call.Connection.Id));
            }
        }

        Publish(call.Connection, key, registrations);
        return GrpcJson.Success(writer => writer.WriteString("type", type));
    }

    /// <summary>PersistentInstanceRequestHandler.java (2.3+): persistent, owned by ip:port like an HTTP registration.</summary>
    public byte[] PersistentInstance(GrpcCall call)
    {
        var key = Service(call.Body);
        var type = GrpcJson.String(call.Body, "type");
        var instance = GrpcJson.Object(call.Body, "instance");
        RequireInstance(instance);
        var registration = Registration(instance, owner: null, ephemeral: false);
        switch (type)
        {
            case Register:
                CheckLegal(instance);
                _store.Register(key, registration);
                Log.InstanceRegistered(_logger, key.NamespaceId, key.GroupedName, registration.Ip, registration.Port);
                break;
            case Deregister:
                if (_store.Deregister(key, registration.Ip, registration.Port))
                {
                    Log.InstanceDeregistered(_logger, key.NamespaceId, key.GroupedName, registration.Ip, registration.Port);
                }

                break;
            default:
                throw new GrpcHandlerException(400, $"Unsupported request type {type}");
        }

        return GrpcJson.Success(writer => writer.WriteString("type", type));
    }

    /// <summary>SubscribeServiceRequestHandler.java: answers the current ServiceInfo; the first subscription also gets a push.</summary>
    public byte[] Subscribe(GrpcCall call)
    {
        var key = Service(call.Body);
        var clusters = GrpcJson.String(call.Body, "clusters");
        var subscribe = GrpcJson.Bool(call.Body, "subscribe", false);
        RequireNamingClient(call.Connection);
        var first = false;
        lock (call.Connection.Gate)
        {
            if (subscribe)
            {
                if (call.Connection.Subscriptions.TryGetValue(key, out var existing))
                {
                    existing.Clusters = clusters;
                }
                else
                {
                    call.Connection.Subscriptions[key] = new GrpcConnection.Subscription(clusters);
                    first = true;
                }
            }
            else
            {
                call.Connection.Subscriptions.Remove(key);
            }
        }

        if (first)
        {
            Log.GrpcSubscribed(_logger, call.Connection.Id, key.GroupedName);
            _connections.SchedulePush(call.Connection, key);
        }

        var hosts = _store.Select(key, clusters ?? string.Empty, healthyOnly: false);
        return GrpcJson.Success(writer =>
        {
            writer.WriteString("message", "success");
            ServiceInfoWriter.Write(writer, "serviceInfo", key, clusters, hosts, _options);
        });
    }

    /// <summary>ServiceQueryRequestHandler.java: an unknown service is a success with no hosts.</summary>
    public byte[] Query(GrpcCall call)
    {
        var key = Service(call.Body);
        var cluster = GrpcJson.String(call.Body, "cluster");
        var hosts = _store.Select(key, cluster ?? string.Empty, GrpcJson.Bool(call.Body, "healthyOnly", false));
        return GrpcJson.Success(writer => ServiceInfoWriter.Write(writer, "serviceInfo", key, cluster, hosts, _options));
    }

    /// <summary>No defaults on gRPC: a null namespace, group or name fails in Service.newService (500, from code).</summary>
    private static ServiceKey Service(JsonElement body)
    {
        var namespaceId = GrpcJson.String(body, "namespace");
        var group = GrpcJson.String(body, "groupName");
        var name = GrpcJson.String(body, "serviceName");
        if (namespaceId is null || group is null || name is null)
        {
            throw new GrpcHandlerException(500, "java.lang.NullPointerException: namespace, groupName and serviceName must not be null");
        }

        // Keys as sent: "" is another namespace than "public" on naming (naming/core/v2/pojo/Service.java).
        return new ServiceKey(namespaceId, group, name);
    }

    private static void RequireInstance(JsonElement instance)
    {
        if (instance.ValueKind != JsonValueKind.Object)
        {
            throw new GrpcHandlerException(400, "Instance can not be null.");
        }
    }

    /// <summary>api/naming/utils/NamingUtils.checkInstanceIsLegal: beat interval and the cluster name (no '_').</summary>
    private static void CheckLegal(JsonElement instance)
    {
        var metadata = GrpcJson.StringMap(instance, "metadata") ?? [];
        var interval = ServiceInfoWriter.Preserved(metadata, InstanceTimeouts.HeartBeatInterval, 5000);
        var timeout = ServiceInfoWriter.Preserved(metadata, InstanceTimeouts.HeartBeatTimeout, 15000);
        var delete = ServiceInfoWriter.Preserved(metadata, InstanceTimeouts.IpDeleteTimeout, 30000);
        if (timeout < interval || delete < interval)
        {
            throw new GrpcHandlerException(400, "Instance 'heart beat interval' must less than 'heart beat timeout' and 'ip delete timeout'.");
        }

        var cluster = GrpcJson.String(instance, "clusterName");
        if (!string.IsNullOrEmpty(cluster) && !ClusterName().IsMatch(cluster))
        {
            throw new GrpcHandlerException(400, $"Instance 'clusterName' should be characters with only 0-9a-zA-Z-. (current: {cluster})");
        }
    }

    /// <summary>Only connections set up with label module=naming are naming clients (ConnectionBasedClientManager.java).</summary>
    private static void RequireNamingClient(GrpcConnection connection)
    {
        if (!connection.IsNamingClient)
        {
            throw GrpcHandlerException.Runtime(-401, $"Client [{connection.Id}] connection already disconnect, can't register ephemeral instance.");
        }
    }

    private static InstanceRegistration Registration(JsonElement instance, string? owner, bool ephemeral = true)
    {
        var cluster = GrpcJson.String(instance, "clusterName");
        return new InstanceRegistration
        {
            Ip = GrpcJson.String(instance, "ip") ?? string.Empty,
            Port = GrpcJson.Int(instance, "port", 0),

            // Kept as sent, no bounds on gRPC (InstancePublishInfo); the service decides ephemerality.
            Weight = GrpcJson.Double(instance, "weight", 1),
            Healthy = GrpcJson.Bool(instance, "healthy", true),
            Enabled = GrpcJson.Bool(instance, "enabled", true),
            Ephemeral = ephemeral,
            ClusterName = string.IsNullOrWhiteSpace(cluster) ? InstanceRegistration.DefaultCluster : cluster,
            Metadata = GrpcJson.StringMap(instance, "metadata") ?? InstanceRegistration.EmptyMetadata,
            Owner = owner,
        };
    }

    /// <summary>Replaces what the connection published for the service (AbstractClient.addServiceInstance: one entry per service).</summary>
    private void Publish(GrpcConnection connection, ServiceKey key, List<InstanceRegistration> registrations)
    {
        List<(string Ip, int Port)> previous;
        lock (connection.Gate)
        {
            previous = connection.Published.GetValueOrDefault(key) ?? [];
            if (registrations.Count == 0)
            {
                connection.Published.Remove(key);
            }
            else
            {
                connection.Published[key] = [.. registrations.Select(r => (r.Ip, r.Port))];
            }
        }

        foreach (var (ip, port) in previous)
        {
            if (!registrations.Exists(r => string.Equals(r.Ip, ip, StringComparison.Ordinal) && r.Port == port)
                && _store.DeregisterOwned(key, ip, port, connection.Id))
            {
                Log.InstanceDeregistered(_logger, key.NamespaceId, key.GroupedName, ip, port);
            }
        }

        foreach (var registration in registrations)
        {
            _store.Register(key, registration);
            Log.InstanceRegistered(_logger, key.NamespaceId, key.GroupedName, registration.Ip, registration.Port);
        }
    }

    [GeneratedRegex("^[0-9a-zA-Z-]+\\z")]
    private static partial Regex ClusterName();
}
