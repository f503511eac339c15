using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;

namespace GrayRelease.Nacos.Emulator.Http;

/// <summary>
/// The parameters of a call as the Java server sees them (<c>getParameter</c>): query string first, then an
/// url-encoded body. The body is parsed by hand so that any charset label (clients write <c>utf8</c>) works.
/// </summary>
internal sealed class RequestParameters
{
    private const int MaxBodyBytes = 16 * 1024 * 1024;
    private static readonly object ItemKey = new();
    private readonly IQueryCollection _query;
    private readonly Dictionary<string, StringValues> _form;

    private RequestParameters(IQueryCollection query, Dictionary<string, StringValues> form)
    {
        _query = query;
        _form = form;
    }

    public string? this[string name]
    {
        get
        {
            if (_query.TryGetValue(name, out var values) && values.Count > 0)
            {
                return values[0];
            }

            return _form.TryGetValue(name, out values) && values.Count > 0 ? values[0] : null;
        }
    }

    public string Get(string name, string fallback) => this[name] is { Length: > 0 } value ? value : fallback;

    public static async ValueTask<RequestParameters> ReadAsync(HttpContext context)
    {
        if (context.Items.TryGetValue(ItemKey, out var cached) && cached is RequestParameters parameters)
        {
            return parameters;
        }

        var form = await ReadFormAsync(context.Request).ConfigureAwait(false);
        parameters = new RequestParameters(context.Request.Query, form);
        context.Items[ItemKey] = parameters;
        return parameters;
    }

    private static async Task<Dictionary<string, StringValues>> ReadFormAsync(HttpRequest request)
    {
        var contentType = request.ContentType;
        var isForm = contentType is null
            ? request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0
            : contentType.Contains("x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase);
        if (!isForm || HttpMethods.IsGet(request.Method))
        {
            return [];
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                throw NacosRequestException.Invalid("request body too large");
            }

            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0)
        {
            return [];
        }

        var text = Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        return QueryHelpers.ParseQuery(text);
    }
}
