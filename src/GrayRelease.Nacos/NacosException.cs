namespace GrayRelease.Nacos;

/// <summary>
/// A call to Nacos failed: no server answered, the server refused the credentials or a permission, or it answered
/// something the call cannot use. The base of every exception GrayRelease.Nacos throws, so callers can catch one type.
/// </summary>
public class NacosException : Exception
{
    /// <summary>Creates an exception with a default message.</summary>
    public NacosException()
    {
    }

    /// <summary>Creates an exception with <paramref name="message"/>.</summary>
    /// <param name="message">What failed and what to do about it.</param>
    public NacosException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with <paramref name="message"/> caused by <paramref name="innerException"/>.</summary>
    /// <param name="message">What failed and what to do about it.</param>
    /// <param name="innerException">The failure that caused it.</param>
    public NacosException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The HTTP status the server answered, when it answered one.</summary>
    public int? StatusCode { get; init; }
}
