using System.Collections.Concurrent;

namespace GrayRelease.Http;

/// <summary>
/// The host of one named HttpClient's <see cref="HttpClient.BaseAddress"/> as the user wrote it. A relative request is
/// combined with the base address into a new <see cref="Uri"/> whose text is already lower-cased, while registry names
/// (Nacos: <c>UserApp</c>) are case-sensitive; this is the only place the original spelling survives.
/// </summary>
internal sealed class ServiceNameSpelling
{
    private string? _host;

    /// <summary>The base address host when its spelling differs from the lower-cased <see cref="Uri.Host"/>; otherwise null.</summary>
    public string? Host => Volatile.Read(ref _host);

    public void Record(Uri? baseAddress)
    {
        string? spelled = null;
        if (baseAddress is { IsAbsoluteUri: true, HostNameType: UriHostNameType.Dns })
        {
            var host = baseAddress.Host;
            var written = GrayLoadBalancingHandler.HostAsWritten(baseAddress.OriginalString, host);
            if (!written.IsEmpty && !written.SequenceEqual(host))
            {
                spelled = written.ToString();
            }
        }

        Volatile.Write(ref _host, spelled);
    }
}

/// <summary>One <see cref="ServiceNameSpelling"/> per HttpClient name, shared by its handler chains and its clients.</summary>
internal sealed class HttpClientServiceNames
{
    private readonly ConcurrentDictionary<string, ServiceNameSpelling> _byClient = new(StringComparer.Ordinal);

    public ServiceNameSpelling For(string clientName) => _byClient.GetOrAdd(clientName, static _ => new ServiceNameSpelling());
}
