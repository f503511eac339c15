using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GrayRelease.Nacos.Configuration;

/// <summary>Gives the Nacos configuration providers, built before logging existed, the application's logger factory.</summary>
internal sealed class NacosConfigurationLoggerBinder(IConfiguration configuration, ILoggerFactory loggerFactory) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (configuration is IConfigurationRoot root)
        {
            foreach (var provider in root.Providers)
            {
                if (provider is NacosConfigurationProvider nacos)
                {
                    nacos.AttachLogger(loggerFactory);
                }
            }
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
