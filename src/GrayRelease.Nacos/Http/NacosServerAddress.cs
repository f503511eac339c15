namespace GrayRelease.Nacos.Http;

/// <summary>Parses configured server addresses into base URIs that end with the context path.</summary>
internal static class NacosServerAddress
{
    /// <summary>Returns <c>http://host:port/nacos/</c> for <c>http://host:port</c>; keeps an explicit context path.</summary>
    public static bool TryParse(string? value, out Uri baseUri)
    {
        baseUri = null!;
        if (string.IsNullOrWhiteSpace(value) || !Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || string.IsNullOrEmpty(uri.Host))
        {
            return false;
        }

        var path = uri.AbsolutePath.TrimEnd('/');
        if (path.Length == 0)
        {
            path = "/nacos";
        }

        baseUri = new UriBuilder(uri.Scheme, uri.Host, uri.Port, path + "/").Uri;
        return true;
    }
}
