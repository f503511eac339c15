using Yarp.ReverseProxy.Configuration;

namespace GrayRelease.Yarp.Tests.Infrastructure;

/// <summary>
/// Lets a test wait for YARP to apply configuration instead of sleeping. Every apply is counted, so none is missed
/// between checking a condition and waiting.
/// </summary>
internal sealed class ConfigAppliedSignal : IConfigChangeListener, IDisposable
{
    private readonly SemaphoreSlim _applied = new(0);

    /// <summary>Waits for applies until <paramref name="condition"/> holds (checked first, then after each apply).</summary>
    public async Task UntilAsync(Func<Task<bool>> condition, CancellationToken cancellationToken)
    {
        while (!await condition())
        {
            await _applied.WaitAsync(cancellationToken);
        }
    }

    public void ConfigurationApplied(IReadOnlyList<IProxyConfig> proxyConfigs) => _applied.Release();

    public void ConfigurationApplyingFailed(IReadOnlyList<IProxyConfig> proxyConfigs, Exception exception) => _applied.Release();

    public void ConfigurationLoaded(IReadOnlyList<IProxyConfig> proxyConfigs)
    {
    }

    public void ConfigurationLoadingFailed(IProxyConfigProvider configProvider, Exception exception) => _applied.Release();

    public void Dispose() => _applied.Dispose();
}
