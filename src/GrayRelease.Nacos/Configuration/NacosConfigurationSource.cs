using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Configuration;

/// <summary>
/// Loads the Nacos configurations listed in <see cref="NacosOptions.Listeners"/> into <c>IConfiguration</c> and reloads
/// them when they change in Nacos (gRPC push or HTTP long polling, by <c>nacos:Transport</c>). Added by <c>AddNacosConfiguration</c>.
/// </summary>
public sealed class NacosConfigurationSource : IConfigurationSource
{
    /// <summary>The Nacos options; when <see langword="null"/>, bound from the <c>nacos</c> section of the configuration built so far.</summary>
    public NacosOptions? Options { get; set; }

    /// <summary>Clock for retry delays.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Logger factory; configuration is built before the application's logging, so <c>AddNacos</c> attaches it later.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    internal HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>Timings of the gRPC transport (tests shorten them); null = the Java client's defaults.</summary>
    internal Grpc.NacosGrpcSettings? GrpcSettings { get; set; }

    /// <inheritdoc />
    public IConfigurationProvider Build(IConfigurationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = Options ?? BindFromBuilder(builder);
        return new NacosConfigurationProvider(options, TimeProvider, LoggerFactory, HttpHandler, GrpcSettings);
    }

    private NacosOptions BindFromBuilder(IConfigurationBuilder builder)
    {
        IConfiguration configuration;
        if (builder is IConfiguration built)
        {
            configuration = built;
        }
        else
        {
            var others = new ConfigurationBuilder();
            foreach (var source in builder.Sources)
            {
                if (!ReferenceEquals(source, this))
                {
                    others.Add(source);
                }
            }

            configuration = others.Build();
        }

        var options = new NacosOptions();
        configuration.GetSection(NacosOptions.SectionName).Bind(options);
        return options;
    }
}
