namespace GrayRelease.Nacos.Http;

/// <summary>A Nacos server answered, but not with what the call expects (4xx, unreadable body).</summary>
internal sealed class NacosProtocolException : NacosException
{
    public NacosProtocolException()
    {
    }

    public NacosProtocolException(string message)
        : base(message)
    {
    }

    public NacosProtocolException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
