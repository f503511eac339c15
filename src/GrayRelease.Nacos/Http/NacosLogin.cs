namespace GrayRelease.Nacos.Http;

/// <summary>A login answer. The token is a secret: never log it.</summary>
internal sealed record NacosLogin(string AccessToken, long TokenTtlSeconds);
