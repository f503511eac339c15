using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace GrayRelease.Nacos.Emulator.Http;

/// <summary>Writes answers with the content types the Java server uses.</summary>
internal static class Responses
{
    public const string JsonContentType = "application/json;charset=UTF-8";
    public const string TextContentType = "text/plain;charset=UTF-8";

    public static Task Text(HttpContext context, int statusCode, string body, string contentType = TextContentType)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = contentType;
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Response.ContentLength = bytes.Length;
        return context.Response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }

    public static Task Json(HttpContext context, int statusCode, byte[] body)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = JsonContentType;
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    public static Task Json(HttpContext context, int statusCode, Action<Utf8JsonWriter> write) =>
        Json(context, statusCode, JsonOutput.ToBytes(write));

    /// <summary>The v2 Open API envelope: <c>{"code":0,"message":"success","data":...}</c>.</summary>
    public static Task Envelope(HttpContext context, Action<Utf8JsonWriter> writeData) =>
        Json(context, StatusCodes.Status200OK, writer =>
        {
            writer.WriteStartObject();
            writer.WriteNumber("code", 0);
            writer.WriteString("message", "success");
            writer.WritePropertyName("data");
            writeData(writer);
            writer.WriteEndObject();
        });

    /// <summary>
    /// What Spring Boot renders for <c>response.sendError(status, message)</c> on a Nacos server
    /// (<c>server.error.include-message=ALWAYS</c> in its application.properties): the error attributes as JSON.
    /// </summary>
    public static Task SpringError(HttpContext context, int statusCode, string error, string message, DateTimeOffset now) =>
        Json(context, statusCode, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("timestamp", now.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", System.Globalization.CultureInfo.InvariantCulture));
            writer.WriteNumber("status", statusCode);
            writer.WriteString("error", error);
            writer.WriteString("message", message);
            writer.WriteString("path", context.Request.Path.Value ?? string.Empty);
            writer.WriteEndObject();
        });

    public static Task EnvelopeError(HttpContext context, NacosRequestException error) =>
        Json(context, error.StatusCode, writer =>
        {
            writer.WriteStartObject();
            writer.WriteNumber("code", error.Code);
            if (error.Abstract is null)
            {
                writer.WriteString("message", error.Message);
                writer.WriteNull("data");
            }
            else
            {
                writer.WriteString("message", error.Abstract);
                writer.WriteString("data", error.Message);
            }

            writer.WriteEndObject();
        });

    /// <summary>
    /// A parameter-check refusal as core/.../paramcheck/ParamCheckerFilter.java generate400Response writes it: the
    /// message and a line break (<c>println</c>), no content type, no caching; the same on v1 and v2.
    /// </summary>
    public static Task ParamCheckRefusal(HttpContext context, string message)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        context.Response.Headers.Pragma = "no-cache";
        context.Response.Headers.Expires = "Thu, 01 Jan 1970 00:00:00 GMT";
        context.Response.Headers.CacheControl = "no-cache,no-store";
        var bytes = Encoding.UTF8.GetBytes(message + "\n");
        context.Response.ContentLength = bytes.Length;
        return context.Response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }
}
