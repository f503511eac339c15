using Grpc.Net.Client.Balancer;
using GrayRelease.Discovery;

namespace GrayRelease.Grpc.Balancing;

/// <summary>Names shared by the resolver, the load balancer and the client registration.</summary>
internal static class GrayGrpcNames
{
    /// <summary>The address scheme our resolver answers: <c>nacos://user-app</c>.</summary>
    public const string Scheme = "nacos";

    /// <summary>The load-balancing policy name set in the channel's service config.</summary>
    public const string Policy = "gray";

    /// <summary>The registry instance behind an address, so the picker groups subchannels by its metadata.</summary>
    public static readonly BalancerAttributesKey<ServiceInstance> Instance = new("grayrelease.instance");

    /// <summary>
    /// The service name as written in the address. <see cref="Uri.Host"/> is lower-cased, but registry names are
    /// case-sensitive (Nacos), so <c>nacos://UserApp</c> must look up <c>UserApp</c>.
    /// </summary>
    public static string ServiceName(Uri address)
    {
        var text = address.OriginalString;
        var start = text.IndexOf("://", StringComparison.Ordinal);
        start = start < 0 ? 0 : start + 3;
        var end = start;
        while (end < text.Length && text[end] is not ('/' or ':' or '?' or '#'))
        {
            end++;
        }

        var name = text[start..end];
        return string.Equals(name, address.Host, StringComparison.OrdinalIgnoreCase) ? name : address.Host;
    }
}
