using Microsoft.Extensions.Configuration;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Returned by <c>AddGrayRelease</c>, so that integrations (Nacos, YARP) chain on it.</summary>
public interface IGrayReleaseBuilder
{
    /// <summary>The application's services.</summary>
    IServiceCollection Services { get; }

    /// <summary>
    /// The application's configuration. When the builder came from an <c>IHostApplicationBuilder</c> it is also an
    /// <see cref="IConfigurationBuilder"/>, so integrations may add configuration sources to it.
    /// </summary>
    IConfiguration Configuration { get; }
}
