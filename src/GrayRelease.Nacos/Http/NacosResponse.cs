using System.Net;

namespace GrayRelease.Nacos.Http;

/// <summary>A non-5xx answer of a Nacos server.</summary>
internal readonly record struct NacosResponse(HttpStatusCode StatusCode, string Body, Uri Server)
{
    public bool IsSuccess => (int)StatusCode is >= 200 and < 300;
}
