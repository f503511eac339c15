namespace GrayRelease.Nacos.Emulator.Http;

/// <summary>A request the emulator refuses; turned into a plain-text (v1) or envelope (v2) answer.</summary>
internal sealed class NacosRequestException : Exception
{
    public NacosRequestException(int statusCode, int code, string message)
        : base(message)
    {
        StatusCode = statusCode;
        Code = code;
    }

    public NacosRequestException()
    {
    }

    public NacosRequestException(string message)
        : base(message)
    {
    }

    public NacosRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public int StatusCode { get; } = 400;

    /// <summary>The v2 error code (10000 parameter missing, 20004 resource not found...).</summary>
    public int Code { get; } = 10000;

    /// <summary>
    /// The v2 envelope's <c>message</c> when the server puts the detail in <c>data</c> instead (NacosApiException:
    /// core/.../exception/NacosApiExceptionHandler.java answers <c>{detailErrCode, errAbstract, errMsg}</c>).
    /// </summary>
    public string? Abstract { get; init; }

    public static NacosRequestException Missing(string name, bool v2) => new(
        400,
        10000,
        v2 ? $"Required parameter '{name}' type String is not present" : $"Param '{name}' is required.");

    public static NacosRequestException Invalid(string message) => new(400, 10001, message);

    public static NacosRequestException NotFound(string message) => new(404, 20004, message);
}
