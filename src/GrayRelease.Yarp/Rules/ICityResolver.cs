using System.Net;

namespace GrayRelease.Yarp;

/// <summary>
/// Finds the city of a client address for <see cref="GrayGatewayOptions.CityList"/>. Called on the request path, so it
/// must answer from memory (a table, a GeoIP database), never over the network.
/// </summary>
public interface ICityResolver
{
    /// <summary>The city of <paramref name="address"/>, or <see langword="null"/> when unknown.</summary>
    string? ResolveCity(IPAddress address);
}
