namespace GrayRelease.Nacos.Http;

/// <summary>No configured Nacos server answered (connection failure, timeout or 5xx on every address).</summary>
internal sealed class NacosUnavailableException : NacosException
{
    public NacosUnavailableException()
    {
    }

    public NacosUnavailableException(string message)
        : base(message)
    {
    }

    public NacosUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
