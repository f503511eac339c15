namespace GrayRelease.Nacos.Http;

/// <summary>The Nacos server refused the configured credentials.</summary>
internal sealed class NacosAuthenticationException : NacosException
{
    public NacosAuthenticationException()
    {
    }

    public NacosAuthenticationException(string message)
        : base(message)
    {
    }

    public NacosAuthenticationException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
