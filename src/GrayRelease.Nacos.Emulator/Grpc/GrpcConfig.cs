using System.Text;
using System.Text.Json;
using GrayRelease.Nacos.Emulator.Config;
using GrayRelease.Nacos.Emulator.Diagnostics;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Emulator.Grpc;

/// <summary>Config over gRPC (config/server/remote/Config*RequestHandler.java) on the same store as the HTTP API.</summary>
internal sealed class GrpcConfig
{
    private const int MaxContentBytes = 10 * 1024 * 1024;

    // config/server/utils/ParamUtils.java + api/config/ConfigType.java: an unknown type is stored as text.
    private static readonly HashSet<string> KnownTypes = new(StringComparer.OrdinalIgnoreCase) { "text", "json", "xml", "yaml", "html", "properties", "toml" };

    private readonly ConfigStore _store;
    private readonly ILogger _logger;

    public GrpcConfig(ConfigStore store, ILogger logger)
    {
        _store = store;
        _logger = logger;
    }

    /// <summary>ConfigQueryResponse and ConfigChangeBatchListenResponse write these even when they fail.</summary>
    public static void QueryFailureFields(Utf8JsonWriter writer)
    {
        writer.WriteNumber("lastModified", 0);
        writer.WriteBoolean("beta", false);
    }

    public static void ListenFailureFields(Utf8JsonWriter writer)
    {
        writer.WriteStartArray("changedConfigs");
        writer.WriteEndArray();
    }

    public static string? CheckKey(JsonElement body) => GrpcParamCheck.Check(
        namespaceId: GrpcJson.String(body, "tenant"),
        dataId: GrpcJson.String(body, "dataId"),
        group: GrpcJson.String(body, "group"));

    public static string? CheckListen(JsonElement body)
    {
        if (body.TryGetProperty("configListenContexts", out var contexts) && contexts.ValueKind == JsonValueKind.Array)
        {
            foreach (var context in contexts.EnumerateArray())
            {
                if (CheckKey(context) is { } failure)
                {
                    return failure;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// ConfigChangeBatchListenRequestHandler.java: listen (or stop) and answer the contexts whose md5 differs from
    /// the server's ("" = the client has none), tenant echoed as sent.
    /// </summary>
    public byte[] BatchListen(GrpcCall call)
    {
        var listen = GrpcJson.Bool(call.Body, "listen", true);
        var changed = new List<(string? Group, string? DataId, string? Tenant)>();
        if (call.Body.TryGetProperty("configListenContexts", out var contexts) && contexts.ValueKind == JsonValueKind.Array)
        {
            foreach (var context in contexts.EnumerateArray())
            {
                var dataId = GrpcJson.String(context, "dataId");
                var group = GrpcJson.String(context, "group");
                var tenant = GrpcJson.String(context, "tenant");
                if (string.IsNullOrEmpty(dataId) || string.IsNullOrEmpty(group))
                {
                    continue;
                }

                var key = ConfigKey.Create(tenant, group, dataId);
                var serverMd5 = _store.GetMd5(key);
                lock (call.Connection.Gate)
                {
                    if (listen)
                    {
                        call.Connection.Listeners[key] = new GrpcConnection.ConfigListener(tenant, serverMd5);
                    }
                    else
                    {
                        call.Connection.Listeners.Remove(key);
                    }
                }

                if (listen && !string.Equals(GrpcJson.String(context, "md5") ?? string.Empty, serverMd5, StringComparison.Ordinal))
                {
                    changed.Add((group, dataId, tenant));
                }
            }
        }

        return GrpcJson.Success(writer =>
        {
            writer.WriteStartArray("changedConfigs");
            foreach (var (group, dataId, tenant) in changed)
            {
                writer.WriteStartObject();
                writer.WriteString("group", group);
                writer.WriteString("dataId", dataId);
                if (tenant is not null)
                {
                    writer.WriteString("tenant", tenant);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        });
    }

    /// <summary>ConfigQueryRequestHandler.java: not found is a typed failure, 500/300 "config data not exist".</summary>
    public byte[] Query(GrpcCall call)
    {
        var key = Key(call.Body);
        var entry = _store.Get(key);
        if (entry is null)
        {
            throw new GrpcHandlerException(300, "config data not exist", typed: true);
        }

        return GrpcJson.Success(writer => WriteEntry(writer, entry));
    }

    /// <summary>The found fields of ConfigQueryResponse (also the v3 HTTP <c>data</c>).</summary>
    public static void WriteEntry(Utf8JsonWriter writer, ConfigEntry entry)
    {
        writer.WriteString("content", entry.Content);
        writer.WriteString("encryptedDataKey", string.Empty);
        writer.WriteString("contentType", entry.Type);
        writer.WriteString("md5", entry.Md5);
        writer.WriteNumber("lastModified", entry.LastModified.ToUnixTimeMilliseconds());
        writer.WriteBoolean("beta", false);
    }

    /// <summary>ConfigPublishRequestHandler.java: ParamUtils.checkParam, then publish (casMd5 when given).</summary>
    public byte[] Publish(GrpcCall call)
    {
        var dataId = GrpcJson.String(call.Body, "dataId");
        var group = GrpcJson.String(call.Body, "group");
        var content = GrpcJson.String(call.Body, "content");
        if (!ConfigKey.IsValidName(dataId))
        {
            throw new GrpcHandlerException(400, "invalid dataId : " + dataId, typed: true);
        }

        if (!ConfigKey.IsValidName(group))
        {
            throw new GrpcHandlerException(400, "invalid group : " + group, typed: true);
        }

        if (string.IsNullOrWhiteSpace(content))
        {
            throw new GrpcHandlerException(400, "content is blank : " + content, typed: true);
        }

        if (Encoding.UTF8.GetByteCount(content) > MaxContentBytes)
        {
            throw new GrpcHandlerException(400, "invalid content, over " + MaxContentBytes, typed: true);
        }

        var key = ConfigKey.Create(GrpcJson.String(call.Body, "tenant"), group!, dataId!);
        var casMd5 = GrpcJson.String(call.Body, "casMd5");
        var type = GrpcJson.String(GrpcJson.Object(call.Body, "additionMap"), "type");
        type = type is not null && KnownTypes.Contains(type) ? type : "text";
        if (!string.IsNullOrWhiteSpace(casMd5))
        {
            // Checked and written under one lock: two clients holding the same md5 must not both win.
            if (!_store.TryPublishCas(key, content, type, casMd5))
            {
                Log.ConfigCasRejected(_logger, key.Tenant, key.Group, key.DataId);
                throw new GrpcHandlerException(500, "Cas publish fail, server md5 may have changed.", typed: true);
            }
        }
        else
        {
            _store.Publish(key, content, type);
        }

        Log.ConfigPublished(_logger, key.Tenant, key.Group, key.DataId);
        return GrpcJson.Success();
    }

    /// <summary>ConfigRemoveRequestHandler.java: removing a missing config succeeds.</summary>
    public byte[] Remove(GrpcCall call)
    {
        var key = Key(call.Body);
        if (_store.Remove(key))
        {
            Log.ConfigRemoved(_logger, key.Tenant, key.Group, key.DataId);
        }

        return GrpcJson.Success();
    }

    /// <summary>Blank tenant, <c>public</c> and <c>""</c> are one namespace for config (common/utils/NamespaceUtil.java).</summary>
    private static ConfigKey Key(JsonElement body)
    {
        var dataId = GrpcJson.String(body, "dataId");
        var group = GrpcJson.String(body, "group");
        if (string.IsNullOrWhiteSpace(dataId) || string.IsNullOrWhiteSpace(group))
        {
            throw new GrpcHandlerException(400, "dataId and group must not be blank", typed: true);
        }

        return ConfigKey.Create(GrpcJson.String(body, "tenant"), group, dataId);
    }
}
