using System.Net;

namespace GrayRelease.Nacos.Http;

/// <summary>An answer of a Nacos server that is up (not 502 / 503 / 504, which fail over); a 500 is the error of that request.</summary>
internal readonly record struct NacosResponse(HttpStatusCode StatusCode, string Body, Uri Server)
{
    public bool IsSuccess => (int)StatusCode is >= 200 and < 300;
}
