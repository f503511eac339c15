using System.Globalization;
using System.Net;
using GrayRelease.Nacos.Emulator.Diagnostics;
using GrayRelease.Nacos.Emulator.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Emulator.Config;

/// <summary>The config Open API v1: get, publish, delete and the long-polling listener (ConfigController).</summary>
internal sealed class ConfigApi
{
    private const string ConfigsPath = "/nacos/v1/cs/configs";
    private const int LongPollingAdvanceMillis = 500;

    /// <summary>config/.../service/LongPollingService.java: the switch MIN_LONG_POOLING_TIMEOUT, 10000 ms by default.</summary>
    internal static readonly TimeSpan MinLongPollingHold = TimeSpan.FromSeconds(10);

    private readonly ConfigStore _store;
    private readonly ILogger _logger;
    private readonly Func<CancellationToken> _stopping;

    public ConfigApi(ConfigStore store, ILogger logger, Func<CancellationToken> stopping)
    {
        _store = store;
        _logger = logger;
        _stopping = stopping;
    }

    public void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGet(ConfigsPath, Handle(GetAsync));
        routes.MapPost(ConfigsPath, Handle(PublishAsync));
        routes.MapDelete(ConfigsPath, Handle(DeleteAsync));
        routes.MapPost(ConfigsPath + "/listener", Handle(ListenAsync));
    }

    private static RequestDelegate Handle(Func<HttpContext, RequestParameters, Task> handler) => async context =>
    {
        try
        {
            var parameters = await RequestParameters.ReadAsync(context).ConfigureAwait(false);
            await handler(context, parameters).ConfigureAwait(false);
        }
        catch (NacosRequestException error)
        {
            await Responses.Text(context, error.StatusCode, error.Message).ConfigureAwait(false);
        }
    };

    private static ConfigKey Key(RequestParameters parameters)
    {
        var dataId = Parameters.Required(parameters, "dataId", v2: false);
        var group = Parameters.Required(parameters, "group", v2: false);
        if (!ConfigKey.IsValidName(dataId.Trim()))
        {
            throw NacosRequestException.Invalid("invalid dataId : " + dataId);
        }

        if (!ConfigKey.IsValidName(group))
        {
            throw NacosRequestException.Invalid("invalid group : " + group);
        }

        return ConfigKey.Create(parameters["tenant"], group, dataId.Trim());
    }

    private Task GetAsync(HttpContext context, RequestParameters parameters)
    {
        var entry = _store.Get(Key(parameters));
        if (entry is null)
        {
            return Responses.Text(context, StatusCodes.Status404NotFound, "config data not exist\n");
        }

        var headers = context.Response.Headers;
        headers["Config-Type"] = entry.Type;
        headers["Content-MD5"] = entry.Md5;
        headers.Pragma = "no-cache";
        headers.CacheControl = "no-cache,no-store";
        headers.LastModified = entry.LastModified.ToString("R", CultureInfo.InvariantCulture);
        return Responses.Text(context, StatusCodes.Status200OK, entry.Content, ContentType(entry.Type));
    }

    private Task PublishAsync(HttpContext context, RequestParameters parameters)
    {
        var key = Key(parameters);
        var content = parameters["content"];
        if (string.IsNullOrWhiteSpace(content))
        {
            throw NacosRequestException.Invalid("content is blank : " + content);
        }

        // ConfigController.publishConfig reads casMd5 from a header; a mismatch is NacosApiException(500,
        // RESOURCE_CONFLICT), which the controller answers with status 500 and the body "false".
        string? casMd5 = context.Request.Headers["casMd5"];
        if (!string.IsNullOrWhiteSpace(casMd5))
        {
            if (!_store.TryPublishCas(key, content, parameters["type"], casMd5))
            {
                Log.ConfigCasRejected(_logger, key.Tenant, key.Group, key.DataId);
                return Responses.Text(context, StatusCodes.Status500InternalServerError, "false", Responses.JsonContentType);
            }
        }
        else
        {
            _store.Publish(key, content, parameters["type"]);
        }

        Log.ConfigPublished(_logger, key.Tenant, key.Group, key.DataId);
        return Responses.Text(context, StatusCodes.Status200OK, "true", Responses.JsonContentType);
    }

    private Task DeleteAsync(HttpContext context, RequestParameters parameters)
    {
        var key = Key(parameters);
        if (_store.Remove(key))
        {
            Log.ConfigRemoved(_logger, key.Tenant, key.Group, key.DataId);
        }

        return Responses.Text(context, StatusCodes.Status200OK, "true", Responses.JsonContentType);
    }

    /// <summary>
    /// LongPollingService.addLongPollingClient: <c>max(MIN_LONG_POOLING_TIMEOUT = 10000, Long-Pulling-Timeout − 500)</c>
    /// ms, so a client asking for less than 10.5 s is still held 10 s.
    /// </summary>
    internal static TimeSpan HoldFor(long timeoutMillis)
    {
        var asked = TimeSpan.FromMilliseconds(Math.Clamp(timeoutMillis - LongPollingAdvanceMillis, 0, int.MaxValue));
        return asked > MinLongPollingHold ? asked : MinLongPollingHold;
    }

    /// <summary>
    /// Answers at once when a listened md5 differs, otherwise holds the call (see <see cref="HoldFor"/>, on the wall
    /// clock) and answers as soon as one changes; an empty 200 means "nothing changed".
    /// </summary>
    private async Task ListenAsync(HttpContext context, RequestParameters parameters)
    {
        var probe = parameters["Listening-Configs"];
        if (string.IsNullOrWhiteSpace(probe))
        {
            throw NacosRequestException.Invalid("invalid probeModify");
        }

        // The server URL-decodes the (already form-decoded) value once more.
        var entries = ListeningConfigs.Parse(WebUtility.UrlDecode(probe))
            ?? throw NacosRequestException.Invalid("invalid probeModify");

        var timeoutHeader = context.Request.Headers["Long-Pulling-Timeout"].ToString();
        var noHangUp = string.Equals(context.Request.Headers["Long-Pulling-Timeout-No-Hangup"].ToString(), "true", StringComparison.OrdinalIgnoreCase);
        var hold = !noHangUp && long.TryParse(timeoutHeader, NumberStyles.Integer, CultureInfo.InvariantCulture, out var timeoutMillis)
            ? HoldFor(timeoutMillis)
            : TimeSpan.Zero;

        var stopping = _stopping();
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        cancellation.CancelAfter(hold);
        while (true)
        {
            var signal = _store.WhenChanged();
            var changed = Changed(entries);
            if (changed.Count > 0)
            {
                await WriteListenerAnswerAsync(context, ListeningConfigs.FormatAnswer(changed)).ConfigureAwait(false);
                return;
            }

            if (cancellation.IsCancellationRequested)
            {
                break;
            }

            _store.ListenerHeld();
            try
            {
                await signal.WaitAsync(cancellation.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            finally
            {
                _store.ListenerReleased();
            }
        }

        if (stopping.IsCancellationRequested)
        {
            context.Abort();
            return;
        }

        if (!context.RequestAborted.IsCancellationRequested)
        {
            await WriteListenerAnswerAsync(context, string.Empty).ConfigureAwait(false);
        }
    }

    private List<ListeningConfigs.Entry> Changed(List<ListeningConfigs.Entry> entries)
    {
        var changed = new List<ListeningConfigs.Entry>();
        foreach (var entry in entries)
        {
            if (!string.Equals(_store.GetMd5(entry.Key), entry.Md5, StringComparison.OrdinalIgnoreCase))
            {
                changed.Add(entry);
            }
        }

        return changed;
    }

    private static Task WriteListenerAnswerAsync(HttpContext context, string body)
    {
        context.Response.Headers.Pragma = "no-cache";
        context.Response.Headers.CacheControl = "no-cache,no-store";
        return Responses.Text(context, StatusCodes.Status200OK, body);
    }

    // config/.../enums/FileTypeEnum.java (getFileTypeEnumByFileExtensionOrFileType, via ConfigContentTypeHandler): only
    // json, xml and html/htm get their own media type; yaml, properties, text and anything unknown are text/plain.
    private static string ContentType(string type) => type.Trim().ToUpperInvariant() switch
    {
        "JSON" => Responses.JsonContentType,
        "XML" => "application/xml;charset=UTF-8",
        "HTML" or "HTM" => "text/html;charset=UTF-8",
        _ => Responses.TextContentType,
    };
}
